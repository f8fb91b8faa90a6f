import "server-only";
import { performance } from "node:perf_hooks";
import { db } from "../db/client";
import { knownDeviceId } from "../devices";
import { lookupIp, placeLabel, type GeoPoint } from "./geo";
import { matchIpRules } from "./ip-rules";
import { currentRiskSettings } from "./settings";
import type { RiskSettings } from "./settings-schema";
import { TRAVEL_NOISE_KM, hourShare, scoreSignals, travelSpeedKmh, type Score, type Signal } from "./scoring";

// One assessment per sign-in attempt, taken before the password is checked (so a blocked source
// costs no password hash) and kept with the attempt whatever its outcome.

export type AttemptSubject = {
  /** The account the attempt names, if it exists. */
  userId: string | null;
  email: string;
  ip: string | null;
  deviceToken: string | null;
};

export type Assessment = Score & {
  settingsVersion: number;
  geo: GeoPoint | null;
  network: string | null;
  /** The user's device behind the cookie, when it is one of theirs. */
  knownDeviceId: string | null;
  micros: number;
};

export async function assessSignIn(subject: AttemptSubject, now = new Date()): Promise<Assessment> {
  const started = performance.now();
  const { version, settings } = await currentRiskSettings();
  const [facts, rules, velocity, baseline, deviceId] = await Promise.all([
    lookupIp(subject.ip),
    matchIpRules(subject.ip, now),
    failureVelocity(subject, settings, now),
    subject.userId ? db().riskBaseline.findUnique({ where: { userId: subject.userId } }) : null,
    subject.userId ? knownDeviceId(subject.userId, subject.deviceToken) : null,
  ]);

  const signals: Signal[] = [];
  if (rules.block) signals.push({ code: "ip_blocklisted", strength: 1, detail: `${rules.block.cidr}: ${rules.block.note}` });
  else if (rules.allow) signals.push({ code: "ip_allowlisted", strength: 1, detail: `${rules.allow.cidr}: ${rules.allow.note}` });
  if (!rules.allow && (velocity.ipFailures > 0 || velocity.ipAccounts > 0)) {
    signals.push({
      code: "ip_failures",
      strength: Math.min(1, Math.max(velocity.ipFailures / settings.ipFailureLimit, velocity.ipAccounts / settings.ipAccountLimit)),
      detail: `${velocity.ipFailures} failures on ${velocity.ipAccounts} accounts in ${settings.failureWindowMinutes} min`,
    });
  }
  if (velocity.accountFailures > 0) {
    signals.push({
      code: "account_failures",
      strength: Math.min(1, velocity.accountFailures / settings.accountFailureLimit),
      detail: `${velocity.accountFailures} failures in ${settings.failureWindowMinutes} min`,
    });
  }
  // Novelty is only news against a history: a user's first sign-in is new in every way.
  if (baseline && baseline.signIns > 0) {
    signals.push(...noveltySignals(baseline, { geo: facts.geo, network: facts.network, deviceKnown: !!deviceId }, settings, now));
  }

  return {
    ...scoreSignals(signals, settings),
    settingsVersion: version,
    geo: facts.geo,
    network: facts.network,
    knownDeviceId: deviceId,
    micros: Math.round((performance.now() - started) * 1000),
  };
}

type Baseline = {
  signIns: number;
  countries: unknown;
  networks: unknown;
  hours: number[];
  lastAt: Date | null;
  lastLatitude: number | null;
  lastLongitude: number | null;
  lastPlace: string | null;
};

function noveltySignals(baseline: Baseline, seen: { geo: GeoPoint | null; network: string | null; deviceKnown: boolean }, settings: RiskSettings, now: Date): Signal[] {
  const signals: Signal[] = [];
  const counts = (v: unknown) => (v && typeof v === "object" ? (v as Record<string, number>) : {});
  const { geo } = seen;
  if (geo && baseline.lastAt && baseline.lastLatitude !== null && baseline.lastLongitude !== null) {
    const { km, kmh } = travelSpeedKmh({ latitude: baseline.lastLatitude, longitude: baseline.lastLongitude, at: baseline.lastAt }, { ...geo, at: now });
    if (km >= TRAVEL_NOISE_KM && kmh > settings.maxTravelKmh) {
      signals.push({
        code: "impossible_travel", strength: 1,
        detail: `${Math.round(km)} km from ${baseline.lastPlace ?? "the last sign-in"} to ${placeLabel(geo) ?? "here"} at ${Math.round(kmh)} km/h`,
      });
    }
  }
  if (geo?.country && !counts(baseline.countries)[geo.country]) signals.push({ code: "new_country", strength: 1, detail: geo.country });
  if (seen.network && !counts(baseline.networks)[seen.network]) signals.push({ code: "new_network", strength: 1, detail: seen.network });
  if (!seen.deviceKnown) signals.push({ code: "new_device", strength: 1, detail: "no recognised device cookie for this user" });
  const hour = now.getUTCHours();
  if (baseline.signIns >= settings.hourBaselineMinimum && hourShare(baseline.hours, hour) < settings.unusualHourShare) {
    signals.push({ code: "unusual_hour", strength: 1, detail: `${String(hour).padStart(2, "0")}:00 UTC` });
  }
  return signals;
}

type Velocity = { ipFailures: number; ipAccounts: number; accountFailures: number };

/** Failed passwords in the window, from this IP (and over how many accounts) and on this account. */
async function failureVelocity(subject: AttemptSubject, settings: RiskSettings, now: Date): Promise<Velocity> {
  const since = new Date(now.getTime() - settings.failureWindowMinutes * 60_000);
  const [row] = await db().$queryRaw<{ ip_failures: bigint; ip_accounts: bigint; account_failures: bigint }[]>`
    SELECT count(*) FILTER (WHERE ip_address = ${subject.ip}) AS ip_failures,
           count(DISTINCT email) FILTER (WHERE ip_address = ${subject.ip}) AS ip_accounts,
           count(*) FILTER (WHERE email = ${subject.email}) AS account_failures
    FROM login_attempts
    WHERE at > ${since} AND at <= ${now} AND outcome = 'invalid_credentials'
      AND (ip_address = ${subject.ip} OR email = ${subject.email})`;
  return { ipFailures: Number(row?.ip_failures ?? 0), ipAccounts: Number(row?.ip_accounts ?? 0), accountFailures: Number(row?.account_failures ?? 0) };
}
