import { describe, expect, it } from "vitest";
import { decide, distanceKm, hourShare, requiredStrength, scoreSignals, travelSpeedKmh } from "@/lib/risk/scoring";
import { DEFAULT_RISK_SETTINGS as settings, settingsInForce } from "@/lib/risk/settings-schema";

const BERLIN = { latitude: 52.52, longitude: 13.405 };
const TOKYO = { latitude: 35.6895, longitude: 139.6917 };

describe("risk score", () => {
  it("adds weight × strength per factor, lists them largest first, and clamps to 0–1", () => {
    const score = scoreSignals([
      { code: "new_device", strength: 1, detail: "" },
      { code: "account_failures", strength: 0.4, detail: "2 failures" },
      { code: "impossible_travel", strength: 1, detail: "" },
    ], settings);
    expect(score.factors.map((f) => [f.code, f.contribution])).toEqual([["impossible_travel", 0.5], ["new_device", 0.25], ["account_failures", 0.12]]);
    expect(score.score).toBe(0.87);
    expect(score.decision).toBe("phishing_resistant");
    const everything = scoreSignals([{ code: "ip_blocklisted", strength: 1, detail: "" }, { code: "new_device", strength: 1, detail: "" }], settings);
    expect(everything.score).toBe(1);
  });

  it("the allow list subtracts, and the score never goes below zero", () => {
    const score = scoreSignals([{ code: "ip_allowlisted", strength: 1, detail: "" }, { code: "new_network", strength: 1, detail: "" }], settings);
    expect(score.factors.find((f) => f.code === "ip_allowlisted")!.contribution).toBe(-0.3);
    expect(score.score).toBe(0);
  });

  it("blocks the source only when the source's own factors reach the block threshold", () => {
    expect(scoreSignals([{ code: "ip_failures", strength: 1, detail: "" }], settings).sourceBlocked).toBe(true);
    const userSide = scoreSignals([{ code: "impossible_travel", strength: 1, detail: "" }, { code: "new_device", strength: 1, detail: "" }, { code: "new_country", strength: 1, detail: "" }], settings);
    expect(userSide.decision).toBe("block");
    expect(userSide.sourceBlocked).toBe(false);
  });

  it("follows the ladder at its thresholds", () => {
    expect([0, 0.29, 0.3, 0.5, 0.69, 0.7, 0.9, 1].map((s) => decide(s, settings))).toEqual(["allow", "allow", "watch", "mfa", "mfa", "phishing_resistant", "block", "block"]);
    expect(["allow", "watch", "mfa", "phishing_resistant", "block"].map((d) => requiredStrength(d as never))).toEqual(["none", "none", "any", "passkey", "passkey"]);
  });
});

describe("travel and hours", () => {
  it("measures great-circle distance and speed", () => {
    expect(distanceKm(BERLIN, TOKYO)).toBeGreaterThan(8900);
    expect(distanceKm(BERLIN, TOKYO)).toBeLessThan(9000);
    const t = new Date("2026-01-01T00:00:00Z");
    expect(travelSpeedKmh({ ...BERLIN, at: t }, { ...TOKYO, at: new Date(t.getTime() + 3_600_000) }).kmh).toBeGreaterThan(8900);
    // A day later the same trip is a flight, not impossible.
    expect(travelSpeedKmh({ ...BERLIN, at: t }, { ...TOKYO, at: new Date(t.getTime() + 86_400_000) }).kmh).toBeLessThan(settings.maxTravelKmh);
  });

  it("counts an hour with its neighbours, wrapping at midnight", () => {
    const histogram = Array.from({ length: 24 }, () => 0);
    histogram[23] = 5;
    histogram[0] = 5;
    expect(hourShare(histogram, 0)).toBe(1);
    expect(hourShare(histogram, 1)).toBe(0.5);
    expect(hourShare(histogram, 12)).toBe(0);
  });
});

describe("risk settings as stored", () => {
  it("a version saved before a setting existed keeps what it set and takes the default for the rest", () => {
    const { ip_allowlisted: _added, ...olderWeights } = { ...settings.weights, new_device: 0.4 };
    const older = { ...settings, weights: olderWeights, ipAccountLimit: 3 };
    const inForce = settingsInForce({ version: 7, settings: older });
    expect(inForce.version).toBe(7);
    expect(inForce.settings).toMatchObject({ ipAccountLimit: 3, weights: { new_device: 0.4, ip_allowlisted: settings.weights.ip_allowlisted } });
    // What cannot be read as settings at all falls back to the defaults, as version 0, naming the
    // version that could not be read (the one a save replaces).
    expect(settingsInForce({ version: 8, settings: { thresholds: { watch: 0.9, mfa: 0.1 } } })).toEqual({ version: 0, settings, unreadable: 8 });
  });
});
