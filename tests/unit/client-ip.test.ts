import { describe, expect, it } from "vitest";
import { isTrustedPeer, parseTrustedProxies, resolveClientIp } from "@/lib/http/client-ip";

describe("client IP", () => {
  const proxies = parseTrustedProxies("10.0.0.0/8, 127.0.0.1");

  it("ignores X-Forwarded-For from an untrusted peer", () => {
    expect(resolveClientIp("198.51.100.1", "1.2.3.4", proxies)).toBe("198.51.100.1");
  });

  it("walks trusted proxies from the right", () => {
    expect(resolveClientIp("127.0.0.1", "203.0.113.9, 10.1.2.3", proxies)).toBe("203.0.113.9");
  });

  it("stops at the first untrusted hop, so a client cannot prepend a fake address", () => {
    expect(resolveClientIp("10.0.0.1", "6.6.6.6, 203.0.113.9", proxies)).toBe("203.0.113.9");
  });

  it("unwraps IPv4-mapped IPv6 peers and rejects garbage", () => {
    expect(resolveClientIp("::ffff:198.51.100.2", undefined, proxies)).toBe("198.51.100.2");
    expect(resolveClientIp("127.0.0.1", "not-an-ip", proxies)).toBe("127.0.0.1");
    expect(resolveClientIp(undefined, "1.2.3.4", proxies)).toBeNull();
  });

  it("reads a hop written with the client's port (some proxies add it), IPv4 and bracketed IPv6", () => {
    expect(resolveClientIp("10.0.0.1", "203.0.113.9:51234", proxies)).toBe("203.0.113.9");
    expect(resolveClientIp("10.0.0.1", "[2001:db8::1]:443", proxies)).toBe("2001:db8::1");
    expect(resolveClientIp("10.0.0.1", "[2001:db8::2]", proxies)).toBe("2001:db8::2");
    // A port on an untrusted hop's left changes nothing: the walk stops at the first untrusted one.
    expect(resolveClientIp("10.0.0.1", "6.6.6.6:1, 203.0.113.9:2", proxies)).toBe("203.0.113.9");
  });

  it("believes proxy headers (like the location one) only from a trusted peer", () => {
    expect(isTrustedPeer("10.9.8.7", proxies)).toBe(true);
    expect(isTrustedPeer("::ffff:127.0.0.1", proxies)).toBe(true);
    expect(isTrustedPeer("198.51.100.1", proxies)).toBe(false);
    expect(isTrustedPeer(undefined, proxies)).toBe(false);
  });
});
