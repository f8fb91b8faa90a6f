import "server-only";
import { db, Prisma, type LoginAttempt } from "../db/client";
import type { RequestContext } from "../http/request-context";
import { ipVelocityKey, type Assessment } from "./assess";
import { rateLimitAddress } from "../rate-limit/counters";
import { placeLabel } from "../geo";
import { audit, recordAuditEvent, SYSTEM_ACTOR, type AuditContext } from "../audit";
import { everyHour } from "../util/hourly";

// Sign-in attempts with their assessments (login_attempts), and the per-user baseline that
// completed sign-ins build.

export type AttemptOutcome = "success" | "invalid_credentials" | "rate_limited" | "blocked" | "refused" | "disabled";

export type AttemptRecord = {
  email: string;
  userId: string | null;
  client: RequestContext;
  method: "password" | "passkey";
  outcome: AttemptOutcome;
  assessment: Assessment | null;
  deviceId?: string | null;
  sessionId?: string | null;
  at?: Date;
  /** The password or passkey was right and counted (login_attempts.credentials_proven). */
  credentialsProven?: boolean;
};

export async function recordAttempt(record: AttemptRecord): Promise<string> {
  const a = record.assessment;
  const row = await db().loginAttempt.create({
    data: {
      at: record.at, email: record.email, userId: record.userId, ipAddress: record.client.ip, rateLimitAddress: ipVelocityKey(record.client.ip), userAgent: record.client.userAgent,
      method: record.method, outcome: record.outcome, deviceId: record.deviceId ?? a?.knownDevice?.id ?? null, sessionId: record.sessionId ?? null,
      country: a?.geo?.country ?? null, city: a?.geo?.city ?? null, latitude: a?.geo?.latitude ?? null, longitude: a?.geo?.longitude ?? null,
      network: a?.network ?? null, riskScore: a?.score ?? null, decision: a?.decision ?? null,
      factors: a ? (a.factors as unknown as Prisma.InputJsonArray) : Prisma.DbNull, settingsVersion: a?.settingsVersion ?? null, assessMicros: a?.micros ?? null,
      credentialsProven: record.credentialsProven ?? false,
    },
    select: { id: true },
  });
  return row.id;
}

/**
 * A session finished its sign-in (password and any MFA step): the attempt that opened it now
 * counts towards the user's baseline. One statement, so concurrent sign-ins of one user add up.
 */
export async function learnFromCompletedSignIn(sessionId: string): Promise<void> {
  const attempt = await db().loginAttempt.findFirst({ where: { sessionId, outcome: "success" } });
  if (!attempt?.userId) return;
  // Once, and never from a sign-in already reported ("this wasn't me" while its MFA step was pending).
  const { count } = await db().loginAttempt.updateMany({ where: { id: attempt.id, learnedAt: null, reportedAt: null }, data: { learnedAt: new Date() } });
  if (count) await learnFrom({ ...attempt, userId: attempt.userId });
}

export type TrustRefusal = "not_found" | "no_account" | "not_held" | "already_trusted" | "not_permitted";

// What trusting an attempt's place answers: where and when it came from (a new device is answered
// by the user's own sign-in from it, not by an analyst).
const PLACE_FACTORS: ReadonlySet<string> = new Set(["impossible_travel", "new_country", "new_network", "unusual_hour"]);

/**
 * Whether an attempt's place can be trusted for its user: the risk engine held it (refused or
 * blocked) for where or when it came from, after its password or passkey proved right, and nobody
 * has trusted it yet. A source blocked before its password was checked proved nothing: whoever
 * was there could have its place written into the owner's history. A sign-in that went through is
 * learned from when it completes; one with no account has no history.
 */
export function placeTrustable(attempt: { userId: string | null; outcome: string; trustedAt: Date | null; credentialsProven: boolean; factorCodes: readonly string[] }): boolean {
  return !!attempt.userId && !attempt.trustedAt && attempt.credentialsProven && (attempt.outcome === "refused" || attempt.outcome === "blocked")
    && attempt.factorCodes.some((code) => PLACE_FACTORS.has(code));
}

/**
 * An analyst vouches for an attempt the risk engine held against the user (refused or blocked: a
 * trip, a new laptop): its country, network, place and hour join the user's baseline as a
 * completed sign-in's would, so the next sign-in from there is neither new nor impossible travel.
 * Once per attempt (placeTrustable); audited. `mayActOn` is the caller's check that the account
 * still exists and that they may act on it.
 */
export async function trustAttemptPlace(attemptId: string, ctx: AuditContext, mayActOn: (userId: string) => Promise<boolean>): Promise<{ ok: true } | { ok: false; refusal: TrustRefusal }> {
  const attempt = await db().loginAttempt.findUnique({ where: { id: attemptId } });
  if (!attempt) return { ok: false, refusal: "not_found" };
  if (!attempt.userId) return { ok: false, refusal: "no_account" };
  if (attempt.trustedAt) return { ok: false, refusal: "already_trusted" };
  const factorCodes = ((attempt.factors as { code: string }[] | null) ?? []).map((factor) => factor.code);
  if (!placeTrustable({ ...attempt, factorCodes })) return { ok: false, refusal: "not_held" };
  if (!(await mayActOn(attempt.userId))) return { ok: false, refusal: "not_permitted" };
  const { count } = await db().loginAttempt.updateMany({ where: { id: attemptId, trustedAt: null, learnedAt: null }, data: { trustedAt: new Date(), learnedAt: new Date() } });
  if (!count) return { ok: false, refusal: "already_trusted" };
  await learnFrom({ ...attempt, userId: attempt.userId });
  await audit(ctx, {
    type: "security", action: "risk.place.trust", outcome: "success", resource: { type: "user", id: attempt.userId },
    metadata: { attemptId, email: attempt.email, country: attempt.country, network: attempt.network, place: placeLabel(attempt) },
  });
  return { ok: true };
}

type LearnedAttempt = Pick<LoginAttempt, "at" | "country" | "network" | "latitude" | "longitude" | "city"> & { userId: string };

/** One statement, so concurrent sign-ins of one user add up; the last place only moves forward in time. */
async function learnFrom(attempt: LearnedAttempt): Promise<void> {
  const hour = attempt.at.getUTCHours();
  const hours = Array.from({ length: 24 }, (_, h) => (h === hour ? 1 : 0));
  const place = placeLabel(attempt);
  const located = attempt.latitude !== null && attempt.longitude !== null;
  const bump = (key: string | null) => (key ? { [key]: 1 } : {});
  await db().$executeRaw`
    INSERT INTO risk_baselines (user_id, sign_ins, countries, networks, hours, last_at, last_latitude, last_longitude, last_place, updated_at)
    VALUES (${attempt.userId}::uuid, 1, ${JSON.stringify(bump(attempt.country))}::jsonb, ${JSON.stringify(bump(attempt.network))}::jsonb, ${hours}::int[],
            ${located ? attempt.at : null}::timestamptz, ${attempt.latitude}::float8, ${attempt.longitude}::float8, ${located ? place : null}::text, now())
    ON CONFLICT (user_id) DO UPDATE SET
      sign_ins = risk_baselines.sign_ins + 1,
      countries = CASE WHEN ${attempt.country}::text IS NULL THEN risk_baselines.countries
        ELSE risk_baselines.countries || jsonb_build_object(${attempt.country}::text, COALESCE((risk_baselines.countries ->> ${attempt.country}::text)::int, 0) + 1) END,
      networks = CASE WHEN ${attempt.network}::text IS NULL THEN risk_baselines.networks
        ELSE risk_baselines.networks || jsonb_build_object(${attempt.network}::text, COALESCE((risk_baselines.networks ->> ${attempt.network}::text)::int, 0) + 1) END,
      hours = (SELECT array_agg(COALESCE(risk_baselines.hours[h], 0) + CASE WHEN h = ${hour + 1}::int THEN 1 ELSE 0 END ORDER BY h) FROM generate_series(1, 24) AS h),
      last_at = CASE WHEN ${located}::boolean AND (risk_baselines.last_at IS NULL OR risk_baselines.last_at < ${attempt.at}::timestamptz) THEN ${attempt.at}::timestamptz ELSE risk_baselines.last_at END,
      last_latitude = CASE WHEN ${located}::boolean AND (risk_baselines.last_at IS NULL OR risk_baselines.last_at < ${attempt.at}::timestamptz) THEN ${attempt.latitude}::float8 ELSE risk_baselines.last_latitude END,
      last_longitude = CASE WHEN ${located}::boolean AND (risk_baselines.last_at IS NULL OR risk_baselines.last_at < ${attempt.at}::timestamptz) THEN ${attempt.longitude}::float8 ELSE risk_baselines.last_longitude END,
      last_place = CASE WHEN ${located}::boolean AND (risk_baselines.last_at IS NULL OR risk_baselines.last_at < ${attempt.at}::timestamptz) THEN ${place}::text ELSE risk_baselines.last_place END,
      updated_at = now()`;
}

/**
 * "This wasn't me": the reported sign-in leaves what it taught the baseline, if it taught it
 * anything (learnedAt: it reached the app, or an analyst trusted its place). Otherwise the attacker's country,
 * network and hour stay familiar, and the attacker's place stays the "last place", so the owner's
 * own next sign-in reads as impossible travel. One statement; the last place goes back to the
 * newest other sign-in the baseline learned, if the reported one was it.
 */
export async function unlearnReportedAttempt(attempt: LoginAttempt & { userId: string }): Promise<void> {
  // Once: only what the baseline learned (learnedAt), taken back by whichever report gets here first.
  const { count } = await db().loginAttempt.updateMany({ where: { id: attempt.id, learnedAt: { not: null } }, data: { learnedAt: null } });
  if (!count) return;
  const [previous] = await db().$queryRaw<Pick<LoginAttempt, "at" | "latitude" | "longitude" | "city" | "country">[]>`
    SELECT a.at, a.latitude, a.longitude, a.city, a.country FROM login_attempts a
    WHERE a.user_id = ${attempt.userId}::uuid AND a.learned_at IS NOT NULL AND a.latitude IS NOT NULL AND a.longitude IS NOT NULL
    ORDER BY a.at DESC LIMIT 1`;
  const hour = attempt.at.getUTCHours() + 1;
  const fewer = (column: Prisma.Sql, key: string | null) => Prisma.sql`CASE WHEN ${key}::text IS NULL THEN ${column}
    WHEN COALESCE((${column} ->> ${key}::text)::int, 0) <= 1 THEN ${column} - ${key}::text
    ELSE ${column} || jsonb_build_object(${key}::text, (${column} ->> ${key}::text)::int - 1) END`;
  // The last place was the reported sign-in's: the one before it, or none.
  const wasLast = Prisma.sql`b.last_at = ${attempt.at}::timestamptz`;
  await db().$executeRaw`
    UPDATE risk_baselines b SET
      sign_ins = greatest(b.sign_ins - 1, 0),
      countries = ${fewer(Prisma.sql`b.countries`, attempt.country)},
      networks = ${fewer(Prisma.sql`b.networks`, attempt.network)},
      hours = (SELECT array_agg(greatest(COALESCE(b.hours[h], 0) - CASE WHEN h = ${hour}::int THEN 1 ELSE 0 END, 0) ORDER BY h) FROM generate_series(1, 24) AS h),
      last_at = CASE WHEN ${wasLast} THEN ${previous?.at ?? null}::timestamptz ELSE b.last_at END,
      last_latitude = CASE WHEN ${wasLast} THEN ${previous?.latitude ?? null}::float8 ELSE b.last_latitude END,
      last_longitude = CASE WHEN ${wasLast} THEN ${previous?.longitude ?? null}::float8 ELSE b.last_longitude END,
      last_place = CASE WHEN ${wasLast} THEN ${previous ? placeLabel(previous) : null}::text ELSE b.last_place END,
      updated_at = now()
    WHERE b.user_id = ${attempt.userId}::uuid`;
}

/**
 * Failed passwords and refused attempts from one IP (its /64 for IPv6, as ipVelocityKey counts,
 * named as `source`) in the window ending at `at`, and over how many accounts (refusals count: a
 * source the risk engine already blocks keeps trying).
 */
export async function sourceFailures(ip: string, windowMinutes: number, at: Date): Promise<{ source: string; failures: number; accounts: number }> {
  const source = rateLimitAddress(ip);
  const [row] = await db().$queryRaw<{ failures: bigint; accounts: bigint }[]>`
    SELECT count(*) AS failures, count(DISTINCT email) AS accounts FROM login_attempts
    WHERE rate_limit_address = ${source} AND outcome IN ('invalid_credentials', 'blocked')
      AND at > ${at}::timestamptz - make_interval(mins => ${windowMinutes}::int) AND at <= ${at}`;
  return { source, failures: Number(row?.failures ?? 0), accounts: Number(row?.accounts ?? 0) };
}

const DAY_MS = 86_400_000;
const PURGE_BATCH = 10_000;

/**
 * Deletes sign-in attempts older than `days`: they hold typed emails, IP addresses and places,
 * which are kept only as long as they serve the risk engine, the user's activity list and
 * investigations. Audited when anything was removed.
 */
export async function purgeLoginAttempts(days: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - days * DAY_MS);
  // In batches: the first run on a large, old table must not hold one long transaction.
  let count = 0;
  for (;;) {
    const deleted = await db().$executeRaw`
      DELETE FROM login_attempts WHERE id IN (SELECT id FROM login_attempts WHERE at < ${cutoff} LIMIT ${PURGE_BATCH})`;
    count += deleted;
    if (deleted < PURGE_BATCH) break;
  }
  if (count) {
    await recordAuditEvent({ type: "admin", action: "risk.attempts.purge", outcome: "success", actor: SYSTEM_ACTOR, metadata: { days, cutoff: cutoff.toISOString(), purged: count } });
  }
  return count;
}

/** Applies the retention every hour in this process (`0` keeps attempts forever). */
export function scheduleLoginAttemptRetention(days: number): void {
  if (days > 0) everyHour("login attempt retention", 5 * 60_000, () => purgeLoginAttempts(days));
}
