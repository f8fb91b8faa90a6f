import "server-only";
import { createHash } from "node:crypto";
import { db } from "../db/client";

// Sign-in throttling, shared by every instance through PostgreSQL.
// - Per IP: at most IP_FAILURE_LIMIT failed attempts per window (credential stuffing).
// - Per account name: after ACCOUNT_FAILURE_LIMIT consecutive failures the name is locked for
//   LOCKOUT, doubling with each further lockout up to MAX_LOCKOUT.
// Counters are keyed by the typed email, whether or not an account exists, so the answers
// never reveal which accounts exist.
export const IP_FAILURE_LIMIT = 20;
export const IP_WINDOW_MS = 15 * 60_000;
export const ACCOUNT_FAILURE_LIMIT = 5;
export const LOCKOUT_MS = 15 * 60_000;
const MAX_LOCKOUT_MS = 24 * 60 * 60_000;
const ACCOUNT_MEMORY_MS = 24 * 60 * 60_000;

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number; scope: "ip" | "account" };

const ipKey = (ip: string) => `signin:ip:${ip}`;
// Hashed so the table does not collect a list of typed email addresses.
const accountKey = (email: string) => `signin:acct:${createHash("sha256").update(email).digest("hex")}`;

type CounterRow = { count: number; window_ends_at: Date; locked_until: Date | null };

async function readCounters(keys: string[]): Promise<Map<string, CounterRow>> {
  const rows = await db().rateLimitCounter.findMany({ where: { key: { in: keys } } });
  return new Map(rows.map((r) => [r.key, { count: r.count, window_ends_at: r.windowEndsAt, locked_until: r.lockedUntil }]));
}

const secondsUntil = (t: Date, now: Date) => Math.max(1, Math.ceil((t.getTime() - now.getTime()) / 1000));

export async function checkSignInThrottle(email: string, ip: string | null, now = new Date()): Promise<ThrottleVerdict> {
  const keys = [accountKey(email), ...(ip ? [ipKey(ip)] : [])];
  const counters = await readCounters(keys);
  const account = counters.get(accountKey(email));
  if (account?.locked_until && account.locked_until > now) {
    return { allowed: false, retryAfterSeconds: secondsUntil(account.locked_until, now), scope: "account" };
  }
  const byIp = ip ? counters.get(ipKey(ip)) : undefined;
  if (byIp && byIp.window_ends_at > now && byIp.count >= IP_FAILURE_LIMIT) {
    return { allowed: false, retryAfterSeconds: secondsUntil(byIp.window_ends_at, now), scope: "ip" };
  }
  return { allowed: true };
}

/** Counts a failure in one atomic statement per key; returns true when this failure locked the account name. */
export async function recordSignInFailure(email: string, ip: string | null, now = new Date()): Promise<{ locked: boolean }> {
  if (ip) await bump(ipKey(ip), now, IP_WINDOW_MS);
  const { count } = await bump(accountKey(email), now, ACCOUNT_MEMORY_MS);
  if (count % ACCOUNT_FAILURE_LIMIT !== 0) return { locked: false };
  const lockouts = count / ACCOUNT_FAILURE_LIMIT;
  const duration = Math.min(LOCKOUT_MS * 2 ** (lockouts - 1), MAX_LOCKOUT_MS);
  await db().rateLimitCounter.update({
    where: { key: accountKey(email) },
    data: { lockedUntil: new Date(now.getTime() + duration) },
  });
  return { locked: true };
}

export async function recordSignInSuccess(email: string): Promise<void> {
  await db().rateLimitCounter.deleteMany({ where: { key: accountKey(email) } });
}

// Fixed window: a counter whose window has ended starts again at 1.
async function bump(key: string, now: Date, windowMs: number): Promise<{ count: number }> {
  const windowEnds = new Date(now.getTime() + windowMs);
  const rows = await db().$queryRaw<{ count: number }[]>`
    INSERT INTO rate_limit_counters (key, count, window_ends_at)
    VALUES (${key}, 1, ${windowEnds})
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit_counters.window_ends_at <= ${now} THEN 1 ELSE rate_limit_counters.count + 1 END,
      window_ends_at = CASE WHEN rate_limit_counters.window_ends_at <= ${now} THEN ${windowEnds} ELSE rate_limit_counters.window_ends_at END
    RETURNING count`;
  return { count: rows[0]!.count };
}

