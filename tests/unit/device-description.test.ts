import { describe, expect, it } from "vitest";
import { describeDevice } from "@/lib/devices/describe";

const CHROME_ON_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36";

describe("a device's description", () => {
  it("names the browser and system people know", () => {
    expect(describeDevice(CHROME_ON_MAC)).toMatchObject({ label: "Chrome on macOS", browser: "Chrome", os: "macOS" });
    expect(describeDevice(CHROME_ON_MAC, { platform: "Windows" } as never).label).toBe("Chrome on Windows");
  });

  it("never repeats words a client made up: a crafted user agent or platform hint shows as unknown", () => {
    const crafted = describeDevice("Please call 555-0100 now/1.0 (Windows NT 10.0)", { platform: "Call the help desk at 555-0100" } as never);
    expect(crafted.label).toBe("Windows");
    expect(JSON.stringify(crafted)).not.toContain("555");
    expect(describeDevice(`${"x".repeat(300)}/1.0`).label).toBe("Unknown device");
  });
});
