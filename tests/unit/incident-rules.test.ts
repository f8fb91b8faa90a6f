import { describe, expect, it } from "vitest";
import { outsideWorkingHours } from "@/lib/incidents/rules";

describe("working hours (in GATEHOUSE_TIME_ZONE, UTC unless set) for the role-grant rule", () => {
  const office = { workdayStartHour: 8, workdayEndHour: 18, weekendsOff: true };
  it("a weekday inside the workday is working hours; before, after and at the end hour are not", () => {
    expect(outsideWorkingHours(new Date("2026-11-18T09:30:00Z"), office)).toBe(false); // Wednesday
    expect(outsideWorkingHours(new Date("2026-11-18T07:59:00Z"), office)).toBe(true);
    expect(outsideWorkingHours(new Date("2026-11-18T18:00:00Z"), office)).toBe(true);
  });
  it("weekends are outside working hours unless they are switched on", () => {
    expect(outsideWorkingHours(new Date("2026-11-21T10:00:00Z"), office)).toBe(true); // Saturday
    expect(outsideWorkingHours(new Date("2026-11-21T10:00:00Z"), { ...office, weekendsOff: false })).toBe(false);
    // In the organisation's time zone: 07:30 UTC is 08:30 in Berlin in November, and Friday 23:30 UTC is Saturday there.
    expect(outsideWorkingHours(new Date("2026-11-18T07:30:00Z"), office, "Europe/Berlin")).toBe(false);
    expect(outsideWorkingHours(new Date("2026-11-18T07:30:00Z"), office, "UTC")).toBe(true);
    expect(outsideWorkingHours(new Date("2026-11-20T23:30:00Z"), { ...office, workdayEndHour: 24 }, "Europe/Berlin")).toBe(true);
    expect(outsideWorkingHours(new Date("2026-11-20T23:30:00Z"), { ...office, workdayEndHour: 24 }, "UTC")).toBe(false);
  });
});
