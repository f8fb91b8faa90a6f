import { describe, expect, it } from "vitest";
import { formatWait, safeReturnPath } from "@/lib/util/format";

describe("safeReturnPath", () => {
  it("keeps same-site paths and refuses everything that leaves the site", () => {
    expect(safeReturnPath("/admin/users?q=a")).toBe("/admin/users?q=a");
    for (const hostile of ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "", null, undefined]) {
      expect(safeReturnPath(hostile)).toBe("/account");
    }
  });
});

describe("formatWait", () => {
  it("speaks in the unit a person would", () => {
    expect(formatWait(30)).toBe("30 seconds");
    expect(formatWait(900)).toBe("15 minutes");
    expect(formatWait(4 * 3600)).toBe("4 hours");
  });
});
