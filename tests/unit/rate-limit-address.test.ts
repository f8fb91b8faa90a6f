import { describe, expect, it } from "vitest";
import { rateLimitAddress } from "@/lib/rate-limit/counters";

describe("rateLimitAddress", () => {
  it("counts an IPv6 subscriber's whole /64 as one address, and IPv4 addresses one by one", () => {
    expect(rateLimitAddress("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(rateLimitAddress("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(rateLimitAddress("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(rateLimitAddress("203.0.113.7")).toBe("203.0.113.7");
    // An IPv4 address written as IPv6 is the IPv4 address.
    expect(rateLimitAddress("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect([rateLimitAddress(null), rateLimitAddress("not an address")]).toEqual(["unknown", "unknown"]);
  });
});
