// The risk score: pure functions over measured signals, so every rule is unit-tested and the
// admin's settings are the only knobs. Not "server-only": tests and the settings form use it.
import type { RiskSettings } from "./settings-schema";

export const FACTOR_CODES = [
  "impossible_travel",
  "new_country",
  "new_network",
  "new_device",
  "unusual_hour",
  "account_failures",
  "ip_failures",
  "ip_blocklisted",
  "ip_allowlisted",
] as const;
export type FactorCode = (typeof FACTOR_CODES)[number];

/** Factors about where the attempt comes from rather than whom it targets. */
const SOURCE_FACTORS: readonly FactorCode[] = ["ip_failures", "ip_blocklisted", "ip_allowlisted"];

export const FACTOR_LABELS: Record<FactorCode, string> = {
  impossible_travel: "Impossible travel since the last sign-in",
  new_country: "Country never seen for this user",
  new_network: "Network never seen for this user",
  new_device: "Device never seen for this user",
  unusual_hour: "Outside the user's usual hours",
  account_failures: "Recent failed attempts on this account",
  ip_failures: "Recent failures from this IP or its IPv6 /64 (brute force, credential stuffing)",
  ip_blocklisted: "IP on the block list",
  ip_allowlisted: "IP on the allow list",
};

/** One signal that fired: its strength (0–1) times its weight is its contribution to the score. */
export type Factor = { code: FactorCode; strength: number; contribution: number; detail: string };
export type Signal = { code: FactorCode; strength: number; detail: string };

export const DECISIONS = ["allow", "watch", "mfa", "phishing_resistant", "block"] as const;
export type Decision = (typeof DECISIONS)[number];

export const DECISION_LABELS: Record<Decision, string> = {
  allow: "Allow",
  watch: "Allow and watch",
  mfa: "Require MFA",
  phishing_resistant: "Require a passkey",
  block: "Block",
};

export type Score = {
  score: number;
  decision: Decision;
  factors: Factor[];
  /** The attempt's source alone (IP lists, IP failure velocity) reaches the block threshold. */
  sourceBlocked: boolean;
};

const round = (n: number) => Math.round(n * 1000) / 1000;
const clamp01 = (n: number) => Math.min(1, Math.max(0, n));

/**
 * Additive and clamped to 0–1: each factor adds weight × strength (the allow list subtracts), so
 * an admin reads the score as the sum of the contributions listed beside it.
 */
export function scoreSignals(signals: Signal[], settings: RiskSettings): Score {
  const factors = signals
    .filter((s) => s.strength > 0)
    .map((s) => {
      const sign = s.code === "ip_allowlisted" ? -1 : 1;
      return { code: s.code, strength: round(s.strength), detail: s.detail, contribution: round(sign * settings.weights[s.code] * clamp01(s.strength)) };
    })
    .filter((f) => f.contribution !== 0)
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  const sum = (list: Factor[]) => round(clamp01(list.reduce((total, f) => total + f.contribution, 0)));
  const score = sum(factors);
  const source = sum(factors.filter((f) => SOURCE_FACTORS.includes(f.code)));
  return { score, decision: decide(score, settings), factors, sourceBlocked: source >= settings.thresholds.block };
}

export function decide(score: number, { thresholds }: RiskSettings): Decision {
  if (score >= thresholds.block) return "block";
  if (score >= thresholds.phishingResistant) return "phishing_resistant";
  if (score >= thresholds.mfa) return "mfa";
  if (score >= thresholds.watch) return "watch";
  return "allow";
}

/** What the decision asks of the MFA step (lib/mfa/requirement.ts's `minimum`). */
export function requiredStrength(decision: Decision): "none" | "any" | "passkey" {
  if (decision === "phishing_resistant" || decision === "block") return "passkey";
  return decision === "mfa" ? "any" : "none";
}

const EARTH_RADIUS_KM = 6371;

/** Great-circle distance (haversine). */
export function distanceKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Two places this close are the same place as far as IP geolocation can tell. */
export const TRAVEL_NOISE_KM = 300;

export function travelSpeedKmh(from: { latitude: number; longitude: number; at: Date }, to: { latitude: number; longitude: number; at: Date }): { km: number; kmh: number } {
  const km = distanceKm(from, to);
  // A floor of one minute so two sign-ins in the same second are not "infinitely fast".
  const hours = Math.max(to.at.getTime() - from.at.getTime(), 60_000) / 3_600_000;
  return { km, kmh: km / hours };
}

/** Share of past sign-ins in this hour and its two neighbours (a user's hours wrap at midnight). */
export function hourShare(histogram: number[], hour: number): number {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return 1;
  const at = (h: number) => histogram[(h + 24) % 24] ?? 0;
  return (at(hour - 1) + at(hour) + at(hour + 1)) / total;
}
