import { describe, expect, it } from "vitest";
import { counted, formatWait, safeReturnPath } from "@/lib/util/format";

describe("safeReturnPath", () => {
  it("keeps same-site paths and refuses everything that leaves the site", () => {
    expect(safeReturnPath("/admin/users?q=a")).toBe("/admin/users?q=a");
    expect(safeReturnPath("/account/security#passkeys")).toBe("/account/security#passkeys");
    const hostile = ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "", null, undefined,
      // The URL parser drops tabs and newlines: each of these is //evil.example to a browser.
      "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\t\\evil.example", "\\/evil.example"];
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
