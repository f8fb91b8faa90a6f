import { describe, expect, it } from "vitest";
import { everyPeriod } from "@/lib/util/periods";

const HOUR = 3_600_000;
const t = (iso: string) => new Date(iso);

describe("everyPeriod", () => {
  it("lists every period from the one holding `since` to the one holding `now`, quiet ones empty", () => {
    const rows = new Map([[t("2026-12-04T06:00:00Z").getTime(), "busy"]]);
    const periods = everyPeriod(rows, t("2026-12-03T09:30:00Z"), t("2026-12-04T09:30:00Z"), 6 * HOUR, (start) => start.toISOString().slice(5, 13));
    // Six-hour periods start at 00, 06, 12 and 18 UTC.
    expect(periods).toEqual(["12-03T06", "12-03T12", "12-03T18", "12-04T00", "busy"]);
  });

  it("keeps days to UTC days", () => {
    const days = everyPeriod(new Map<number, string>(), t("2026-12-01T23:59:00Z"), t("2026-12-03T00:00:00Z"), 24 * HOUR, (start) => start.toISOString());
    expect(days).toEqual(["2026-12-01T00:00:00.000Z", "2026-12-02T00:00:00.000Z", "2026-12-03T00:00:00.000Z"]);
  });
});
