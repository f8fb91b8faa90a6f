import "server-only";
import { performance } from "node:perf_hooks";
import { db } from "../db/client";
import { knownDevice, type KnownDevice } from "../devices";
import { createHash } from "node:crypto";
import { rateLimitAddress } from "../rate-limit/counters";
import { everyHour } from "../util/hourly";
import { lookupIp, placeLabel, type GeoPoint } from "../geo";
import { matchIpRules, type IpRuleRow } from "./ip-rules";
import { DEFAULT_RISK_SETTINGS, settingsInForce, type RiskSettings } from "./settings-schema";
import { TRAVEL_NOISE_KM, hourShare, scoreSignals, travelSpeedKmh, type Score, type Signal } from "./scoring";

// One assessment per sign-in attempt, taken before the password is checked (so a blocked source
// costs no password hash) and kept with the attempt whatever its outcome.

export type AttemptSubject = {
  /** The account the attempt names, if it exists. */
  userId: string | null;
  email: string;
  ip: string | null;
  deviceToken: string | null;
  /** Other password attempts from the same source still being checked, and on how many other accounts (beginPasswordAttempt). */
  othersInFlight?: InFlight;
};

export type Assessment = Score & {
  settingsVersion: number;
  geo: GeoPoint | null;
  network: string | null;
  /** The user's device behind the cookie (and its trust), when it is one of theirs. */
  knownDevice: KnownDevice | null;
  micros: number;
};

export async function assessSignIn(subject: AttemptSubject, now = new Date()): Promise<Assessment> {
  const started = performance.now();
  // Counted per /64 for IPv6: the admin reads that the failures came from the whole network.
  const counted = ipVelocityKey(subject.ip);
  const [inputs, device] = await Promise.all([
    readInputs(subject, counted, now),
    subject.userId ? knownDevice(subject.userId, subject.deviceToken, now) : null,
  ]);
  const facts = lookupIp(subject.ip);
  const { version, settings, baseline, velocity } = inputs;
  const rules = matchIpRules(subject.ip, inputs.rules);
  const source = counted && counted !== subject.ip ? ` from ${counted}` : "";

  const signals: Signal[] = [];
  if (rules.block) signals.push({ code: "ip_blocklisted", strength: 1, detail: `${rules.block.cidr}: ${rules.block.note}` });
  else if (rules.allow) signals.push({ code: "ip_allowlisted", strength: 1, detail: `${rules.allow.cidr}: ${rules.allow.note}` });
  if (!rules.allow) signals.push(...sourceFailureSignal(velocity, subject.othersInFlight ?? NONE_IN_FLIGHT, settings, source));
  if (velocity.accountFailures > 0) {
    signals.push({
      code: "account_failures",
      strength: Math.min(1, velocity.accountFailures / settings.accountFailureLimit),
      detail: `${velocity.accountFailures} failures in ${settings.failureWindowMinutes} min`,
    });
  }
  // Novelty is only news against a history: a user's first sign-in is new in every way.
  if (baseline && baseline.signIns > 0) {
    signals.push(...noveltySignals(baseline, { geo: facts.geo, network: facts.network, deviceKnown: !!device }, settings, now));
  }

  return {
    ...scoreSignals(signals, settings),
    settingsVersion: version,
    geo: facts.geo,
    network: facts.network,
    knownDevice: device,
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

// A source whose count has not moved for this long starts again from nothing (attempts of an
// instance that crashed meanwhile would otherwise count for ever).
const IN_FLIGHT_STALE_SECONDS = 60;

export type InFlight = { attempts: number; accounts: number };
const NONE_IN_FLIGHT: InFlight = { attempts: 0, accounts: 0 };

/**
 * A password attempt from this address begins: the failures from its source are counted from the
 * attempts recorded once checked (login_attempts), so attempts sent at the same moment would all
 * see the count from before the burst. Each one is counted here until `end` (called once its
 * outcome is recorded), and the assessment counts the others as failures.
 */
export async function beginPasswordAttempt(ip: string | null, email: string, now = new Date()): Promise<{ othersInFlight: InFlight; end: () => Promise<void> }> {
  const source = ipVelocityKey(ip);
  if (!source) return { othersInFlight: NONE_IN_FLIGHT, end: async () => {} };
  // Attempts, and the accounts they are on: twelve guesses at one account are one account.
  const account = createHash("sha256").update(email).digest("base64url");
  const [entered] = await db().$queryRaw<{ attempts: number; accounts: number }[]>`
    INSERT INTO sign_ins_in_flight (source, attempts, accounts, updated_at)
    VALUES (${source}, 1, jsonb_build_object(${account}::text, 1), ${now})
    ON CONFLICT (source) DO UPDATE SET
      attempts = CASE WHEN sign_ins_in_flight.updated_at < ${now}::timestamptz - make_interval(secs => ${IN_FLIGHT_STALE_SECONDS}) THEN 1 ELSE sign_ins_in_flight.attempts + 1 END,
      accounts = CASE WHEN sign_ins_in_flight.updated_at < ${now}::timestamptz - make_interval(secs => ${IN_FLIGHT_STALE_SECONDS}) THEN jsonb_build_object(${account}::text, 1)
        ELSE jsonb_set(sign_ins_in_flight.accounts, ARRAY[${account}::text], to_jsonb(coalesce((sign_ins_in_flight.accounts ->> ${account}::text)::int, 0) + 1)) END,
      updated_at = ${now}
    RETURNING attempts, (SELECT count(*) FROM jsonb_object_keys(accounts))::int AS accounts`;
  const end = () => db().$executeRaw`
    UPDATE sign_ins_in_flight SET
      attempts = GREATEST(attempts - 1, 0),
      accounts = CASE WHEN coalesce((accounts ->> ${account}::text)::int, 0) <= 1 THEN accounts - ${account}::text
        ELSE jsonb_set(accounts, ARRAY[${account}::text], to_jsonb((accounts ->> ${account}::text)::int - 1)) END
    WHERE source = ${source}`;
  return {
    othersInFlight: { attempts: entered!.attempts - 1, accounts: Math.max(0, entered!.accounts - 1) },
    // The attempt's answer stands whatever happens here: at worst the counts are high for a minute.
    end: async () => void (await end().catch((error: unknown) => console.error("[risk] in-flight count not taken back:", error instanceof Error ? error.message : error))),
  };
}

/**
 * The failures from the attempt's source. The attempts from it still being checked count only at
 * the limit: with them, a burst sent at once is stopped where the same failures sent one by one
 * would be (at the limit, the source is blocked), while below it they weigh nothing, since most
 * will succeed (an office behind one address signing in at nine).
 */
function sourceFailureSignal(velocity: Velocity, inFlight: InFlight, settings: RiskSettings, source: string): Signal[] {
  const strength = (failures: number, accounts: number) => Math.min(1, Math.max(failures / settings.ipFailureLimit, accounts / settings.ipAccountLimit));
  const window = `in ${settings.failureWindowMinutes} min`;
  if (inFlight.attempts > 0 && strength(velocity.ipFailures + inFlight.attempts, velocity.ipAccounts + inFlight.accounts) >= 1) {
    const detail = `${velocity.ipFailures} failures on ${velocity.ipAccounts} accounts${source} ${window}, and ${inFlight.attempts} attempts on ${inFlight.accounts} accounts at once still being checked`;
    return [{ code: "ip_failures", strength: 1, detail }];
  }
  if (velocity.ipFailures === 0 && velocity.ipAccounts === 0) return [];
  return [{ code: "ip_failures", strength: strength(velocity.ipFailures, velocity.ipAccounts), detail: `${velocity.ipFailures} failures on ${velocity.ipAccounts} accounts${source} ${window}` }];
}

const IDLE_SOURCE_MS = 86_400_000;

/** Deletes the in-flight rows of sources idle for a day (one is left behind by every source). Hourly (instrumentation.ts). */
export function sweepIdleSources(now = new Date()): Promise<number> {
  return db().$executeRaw`DELETE FROM sign_ins_in_flight WHERE updated_at < ${new Date(now.getTime() - IDLE_SOURCE_MS)}`;
}

export function scheduleIdleSourceSweep(): void {
  everyHour("idle sign-in sources", 8 * 60_000, () => sweepIdleSources());
}

/**
 * What IP velocity is counted by (login_attempts.rate_limit_address): an IPv4 address, or the /64
 * of an IPv6 one, since one subscriber holds a whole /64 and could otherwise rotate addresses
 * under every limit. Null without an address: attempts with no IP share no budget.
 */
export const ipVelocityKey = (ip: string | null): string | null => (ip ? rateLimitAddress(ip) : null);

type Velocity = { ipFailures: number; ipAccounts: number; accountFailures: number };
type Inputs = { version: number; settings: RiskSettings; rules: IpRuleRow[]; baseline: Baseline | null; velocity: Velocity };

/**
 * Everything the assessment reads from lib/risk's own tables, in one statement (one round trip and
 * one pooled connection per attempt): the settings in force, the IP rules in force, the user's
 * baseline, and the failed passwords in the window from `source` (this IP, or its /64 for IPv6:
 * ipVelocityKey) over how many accounts, and on this account.
 */
async function readInputs(subject: AttemptSubject, source: string | null, now: Date): Promise<Inputs> {
  const [row] = await db().$queryRaw<{
    settings: { version: number; settings: unknown } | null;
    rules: IpRuleRow[];
    baseline: (Omit<Baseline, "lastAt"> & { lastAt: string | null }) | null;
    ip_failures: bigint; ip_accounts: bigint; account_failures: bigint;
  }[]>`
    WITH current_settings AS (
      SELECT version, settings FROM risk_settings_versions ORDER BY version DESC LIMIT 1
    ), since AS (
      SELECT ${now}::timestamptz - make_interval(mins => coalesce((SELECT (settings ->> 'failureWindowMinutes')::int FROM current_settings), ${DEFAULT_RISK_SETTINGS.failureWindowMinutes}::int)) AS at
    )
    SELECT
      (SELECT json_build_object('version', version, 'settings', settings) FROM current_settings) AS settings,
      (SELECT coalesce(json_agg(json_build_object('id', id, 'cidr', cidr, 'kind', kind, 'note', note)), '[]'::json)
         FROM ip_rules WHERE expires_at IS NULL OR expires_at > ${now}) AS rules,
      (SELECT json_build_object('signIns', sign_ins, 'countries', countries, 'networks', networks, 'hours', hours, 'lastAt', last_at,
                                'lastLatitude', last_latitude, 'lastLongitude', last_longitude, 'lastPlace', last_place)
         FROM risk_baselines WHERE user_id = ${subject.userId}::uuid) AS baseline,
      count(*) FILTER (WHERE rate_limit_address = ${source}) AS ip_failures,
      count(DISTINCT email) FILTER (WHERE rate_limit_address = ${source}) AS ip_accounts,
      count(*) FILTER (WHERE email = ${subject.email}) AS account_failures
    FROM login_attempts
    WHERE at > (SELECT at FROM since) AND at <= ${now} AND outcome = 'invalid_credentials'
      AND (rate_limit_address = ${source} OR email = ${subject.email})`;
  return {
    ...settingsInForce(row?.settings ?? null),
    rules: row?.rules ?? [],
    baseline: row?.baseline ? { ...row.baseline, lastAt: row.baseline.lastAt ? new Date(row.baseline.lastAt) : null } : null,
    velocity: { ipFailures: Number(row?.ip_failures ?? 0), ipAccounts: Number(row?.ip_accounts ?? 0), accountFailures: Number(row?.account_failures ?? 0) },
  };
}
