import "server-only";
import { db } from "../db/client";
import { everyPeriod } from "../util/periods";
import { audit, type AuditContext } from "../audit/context";
import { deviceLabels } from "../devices";
import { placeLabel } from "../geo";
import { unlearnReportedAttempt } from "./attempts";
import type { Decision, Factor } from "./scoring";

// What /admin/risk and the account's activity list read. Aggregates run in PostgreSQL over
// login_attempts (indexed by time, user, IP and score), so they stay cheap as the table grows.

// Some 30 bars whatever the range: 168 hourly bars in a week were a pixel wide each, so a week
// looked empty with a spike at its edge.
export const RISK_RANGES = {
  "24h": { hours: 24, bucketHours: 1, per: "hour" },
  "7d": { hours: 168, bucketHours: 6, per: "6 hours" },
  "30d": { hours: 720, bucketHours: 24, per: "day (UTC)" },
} as const;
export type RiskRange = keyof typeof RISK_RANGES;

/** A period from `at` (ISO): its scores are null when nothing in it was scored, so the chart draws no line there. */
export type TimelinePoint = { at: string; attempts: number; blocked: number; avgScore: number | null; maxScore: number | null };
export type RiskOverview = {
  timeline: TimelinePoint[];
  /** Attempts per score band: [0, 0.1), [0.1, 0.2), … [0.9, 1]. */
  distribution: { band: string; attempts: number }[];
  decisions: Record<Decision, number>;
  riskiestAttempts: AttemptSummary[];
  riskiestUsers: { userId: string; email: string; attempts: number; maxScore: number; avgScore: number; elevated: number }[];
  riskiestIps: { ip: string; attempts: number; failures: number; accounts: number; maxScore: number; place: string | null }[];
};

export type AttemptSummary = {
  id: string;
  at: Date;
  email: string;
  userId: string | null;
  ip: string | null;
  place: string | null;
  outcome: string;
  method: string;
  score: number | null;
  decision: string | null;
  factors: Factor[];
  reportedAt: Date | null;
};

const num = (v: unknown) => Number(v ?? 0);

export async function riskOverview(range: RiskRange, now = new Date()): Promise<RiskOverview> {
  const { hours, bucketHours } = RISK_RANGES[range];
  const since = new Date(now.getTime() - hours * 3_600_000);
  const step = bucketHours * 3600;
  const [timeline, distribution, decisions, riskiest, users, ips] = await Promise.all([
    db().$queryRaw<{ at: Date; attempts: bigint; blocked: bigint; avg: number | null; max: number | null }[]>`
      SELECT to_timestamp(floor(extract(epoch FROM at) / ${step}) * ${step}) AS at, count(*) AS attempts, count(*) FILTER (WHERE outcome IN ('blocked', 'refused', 'rate_limited')) AS blocked,
             avg(risk_score) AS avg, max(risk_score) AS max
      FROM login_attempts WHERE at > ${since} GROUP BY 1 ORDER BY 1`,
    db().$queryRaw<{ band: number; attempts: bigint }[]>`
      SELECT least(floor(risk_score * 10), 9)::int AS band, count(*) AS attempts
      FROM login_attempts WHERE at > ${since} AND risk_score IS NOT NULL GROUP BY 1`,
    db().$queryRaw<{ decision: string; attempts: bigint }[]>`
      SELECT decision, count(*) AS attempts FROM login_attempts WHERE at > ${since} AND decision IS NOT NULL GROUP BY 1`,
    db().loginAttempt.findMany({ where: { at: { gt: since }, riskScore: { gt: 0 } }, orderBy: [{ riskScore: "desc" }, { at: "desc" }], take: 15 }),
    db().$queryRaw<{ user_id: string; email: string; attempts: bigint; max: number; avg: number; elevated: bigint }[]>`
      -- An attempt with a user_id records that account's email: no need to read lib/auth's users table.
      SELECT user_id, max(email) AS email, count(*) AS attempts, max(risk_score) AS max, avg(risk_score) AS avg,
             count(*) FILTER (WHERE risk_score >= 0.5) AS elevated
      FROM login_attempts
      WHERE at > ${since} AND risk_score IS NOT NULL AND user_id IS NOT NULL
      GROUP BY user_id HAVING max(risk_score) > 0 ORDER BY max DESC, avg DESC LIMIT 10`,
    db().$queryRaw<{ ip: string; attempts: bigint; failures: bigint; accounts: bigint; max: number; country: string | null; city: string | null }[]>`
      -- By what velocity counts (an IPv6 /64: an attacker rotating through it is one row); attempts
      -- older than that column's backfill (migration 20261204093845) by their address.
      SELECT coalesce(rate_limit_address, ip_address) AS ip, count(*) AS attempts, count(*) FILTER (WHERE outcome = 'invalid_credentials') AS failures,
             count(DISTINCT email) AS accounts, max(risk_score) AS max, max(country) AS country, max(city) AS city
      FROM login_attempts WHERE at > ${since} AND ip_address IS NOT NULL
      GROUP BY 1 HAVING max(risk_score) > 0 ORDER BY max DESC, failures DESC LIMIT 10`,
  ]);
  const bands = Array.from({ length: 10 }, (_, i) => ({ band: `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`, attempts: 0 }));
  for (const row of distribution) bands[row.band]!.attempts = num(row.attempts);
  const byDecision = { allow: 0, watch: 0, mfa: 0, phishing_resistant: 0, block: 0 } as Record<Decision, number>;
  for (const row of decisions) if (row.decision in byDecision) byDecision[row.decision as Decision] = num(row.attempts);
  return {
    timeline: everyPeriod(
      new Map(timeline.map((t) => [t.at.getTime(), { at: t.at.toISOString(), attempts: num(t.attempts), blocked: num(t.blocked), avgScore: roundOrNull(t.avg), maxScore: roundOrNull(t.max) }])),
      since, now, step * 1000, (start) => ({ at: start.toISOString(), attempts: 0, blocked: 0, avgScore: null, maxScore: null }),
    ),
    distribution: bands,
    decisions: byDecision,
    riskiestAttempts: riskiest.map(toSummary),
    riskiestUsers: users.map((u) => ({ userId: u.user_id, email: u.email, attempts: num(u.attempts), maxScore: round(u.max), avgScore: round(u.avg), elevated: num(u.elevated) })),
    riskiestIps: ips.map((i) => ({ ip: i.ip, attempts: num(i.attempts), failures: num(i.failures), accounts: num(i.accounts), maxScore: round(i.max), place: placeLabel({ city: i.city, country: i.country }) })),
  };
}

const round = (v: number | null) => Math.round((v ?? 0) * 1000) / 1000;
const roundOrNull = (v: number | null) => (v === null ? null : round(v));

type AttemptRow = Awaited<ReturnType<ReturnType<typeof db>["loginAttempt"]["findFirstOrThrow"]>>;

function toSummary(a: AttemptRow): AttemptSummary {
  return {
    id: a.id, at: a.at, email: a.email, userId: a.userId, ip: a.ipAddress, place: placeLabel({ city: a.city, country: a.country }),
    outcome: a.outcome, method: a.method, score: a.riskScore, decision: a.decision, factors: (a.factors as Factor[] | null) ?? [], reportedAt: a.reportedAt,
  };
}

/** One attempt with everything the assessment recorded; its session is lib/auth's to describe. */
export async function findAttempt(id: string) {
  const attempt = await db().loginAttempt.findUnique({ where: { id } });
  if (!attempt) return null;
  const labels = await deviceLabels(attempt.deviceId ? [attempt.deviceId] : []);
  return {
    ...toSummary(attempt), userAgent: attempt.userAgent, network: attempt.network, latitude: attempt.latitude, longitude: attempt.longitude,
    settingsVersion: attempt.settingsVersion, assessMicros: attempt.assessMicros, sessionId: attempt.sessionId, trustedAt: attempt.trustedAt, credentialsProven: attempt.credentialsProven,
    device: attempt.deviceId ? (labels.get(attempt.deviceId) ?? null) : null,
  };
}

/** The user's own recent sign-ins (successes, failures and refusals), newest first. */
export async function recentSignIns(userId: string, take = 20) {
  const rows = await db().loginAttempt.findMany({ where: { userId }, orderBy: { at: "desc" }, take });
  const labels = await deviceLabels(rows.flatMap((r) => (r.deviceId ? [r.deviceId] : [])));
  return rows.map((r) => ({ ...toSummary(r), device: r.deviceId ? (labels.get(r.deviceId) ?? null) : null, sessionId: r.sessionId }));
}

export type SignInRiskSummary = { attempts: number; refused: number; highRisk: number };

/**
 * The console overview's line on sign-ins in the `hours` before `now`: how many were refused or
 * blocked (as riskOverview's timeline counts them), and how many scored high enough to demand a
 * passkey or block (by the settings then in force).
 */
export async function signInRiskSummary(hours = 24, now = new Date()): Promise<SignInRiskSummary> {
  const since = new Date(now.getTime() - hours * 3_600_000);
  const [row] = await db().$queryRaw<{ attempts: bigint; refused: bigint; high_risk: bigint }[]>`
    SELECT count(*) AS attempts, count(*) FILTER (WHERE outcome IN ('blocked', 'refused', 'rate_limited')) AS refused,
           count(*) FILTER (WHERE decision IN ('phishing_resistant', 'block')) AS high_risk
    FROM login_attempts WHERE at > ${since} AND at <= ${now}`;
  return { attempts: num(row?.attempts), refused: num(row?.refused), highRisk: num(row?.high_risk) };
}

/**
 * "This wasn't me": marks the user's own attempt (scoped by userId, so no one reports another's)
 * and raises a security event, once per attempt (each event is an alert: reporting one sign-in
 * again must not flood the incident queue), then takes back what the sign-in taught the risk
 * engine (its place). Returns the session and device it opened, for the caller to end and disown
 * (again, harmlessly, when it was reported before).
 */
export async function reportSignIn(userId: string, attemptId: string, ctx: AuditContext, now = new Date()) {
  const attempt = await db().loginAttempt.findFirst({ where: { id: attemptId, userId } });
  if (!attempt) return null;
  const { count } = await db().loginAttempt.updateMany({ where: { id: attempt.id, reportedAt: null }, data: { reportedAt: now } });
  const found = { sessionId: attempt.sessionId, deviceId: attempt.deviceId, alreadyReported: count === 0 };
  if (!found.alreadyReported) {
    try {
      await audit(ctx, {
        type: "security", action: "risk.user_reported_sign_in", outcome: "success", resource: { type: "login_attempt", id: attempt.id }, riskScore: attempt.riskScore,
        metadata: { userId, attemptAt: attempt.at.toISOString(), place: placeLabel({ city: attempt.city, country: attempt.country }), sessionId: attempt.sessionId, outcome: attempt.outcome, attemptIp: attempt.ipAddress, attemptDeviceId: attempt.deviceId },
      });
    } catch (error) {
      // Not on record, so not reported: the user's retry raises it (else it would say "already reported").
      await db().loginAttempt.updateMany({ where: { id: attempt.id }, data: { reportedAt: null } });
      throw error;
    }
  }
  // What the sign-in taught the risk engine goes: its place is not the user's. Again on a repeated
  // report (it is taken back once), should the first have stopped part way.
  await unlearnReportedAttempt({ ...attempt, userId });
  return found;
}
