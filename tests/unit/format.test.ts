import { describe, expect, it } from "vitest";
import { counted, formatDateTime, formatWait, safeReturnPath } from "@/lib/util/format";

describe("safeReturnPath", () => {
  it("keeps same-site paths and refuses everything that leaves the site", () => {
    expect(safeReturnPath("/admin/users?q=a")).toBe("/admin/users?q=a");
    expect(safeReturnPath("/account/security#passkeys")).toBe("/account/security#passkeys");
    const hostile = ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "", null, undefined,
      // The URL parser drops tabs and newlines: each of these is //evil.example to a browser.
      "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\t\\evil.example", "\\/evil.example",
      // Dot segments collapse to a path that starts with "//".
      "/.//evil.example", "/%2e//evil.example", "/..//evil.example", "/a/..//evil.example", "/./\\evil.example"];
    for (const candidate of hostile) expect(safeReturnPath(candidate), JSON.stringify(candidate)).toBe("/account");
    expect(safeReturnPath("/a\tb")).toBe("/ab"); // what the browser would open
  });
});

describe("formatWait", () => {
  it("speaks in the unit a person would", () => {
    expect(formatWait(30)).toBe("30 seconds");
    expect(formatWait(900)).toBe("15 minutes");
    expect(formatWait(4 * 3600)).toBe("4 hours");
  });
});

describe("counted", () => {
  it("agrees the noun (and what follows it) with the count", () => {
    expect(counted(1, "analyst without a passkey", "analysts without a passkey")).toBe("1 analyst without a passkey");
    expect(counted(0, "client holds", "clients hold")).toBe("0 clients hold");
    expect(counted(3, "change", "changes")).toBe("3 changes");
  });
});

describe("formatDateTime", () => {
  const at = new Date("2026-12-04T02:07:13Z");

  it("renders UTC on the server and names the reader's zone in the browser", () => {
    expect(formatDateTime(at)).toBe("4 Dec 2026, 02:07 UTC");
    expect(formatDateTime(at, "Europe/Berlin")).toBe("4 Dec 2026, 03:07 CET");
    // The local date may differ from the UTC one.
    expect(formatDateTime(at, "America/New_York")).toBe("3 Dec 2026, 21:07 GMT-5");
    expect(formatDateTime(null)).toBe("—");
  });
});
