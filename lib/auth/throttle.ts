import "server-only";
import { createHash } from "node:crypto";
import { bumpCounter, clearCounter, lockCounter, readCounters, secondsUntil } from "../rate-limit/counters";

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

export async function checkSignInThrottle(email: string, ip: string | null, now = new Date()): Promise<ThrottleVerdict> {
  const keys = [accountKey(email), ...(ip ? [ipKey(ip)] : [])];
  const counters = await readCounters(keys);
  const account = counters.get(accountKey(email));
  if (account?.lockedUntil && account.lockedUntil > now) {
    return { allowed: false, retryAfterSeconds: secondsUntil(account.lockedUntil, now), scope: "account" };
  }
  const byIp = ip ? counters.get(ipKey(ip)) : undefined;
  if (byIp && byIp.windowEndsAt > now && byIp.count >= IP_FAILURE_LIMIT) {
    return { allowed: false, retryAfterSeconds: secondsUntil(byIp.windowEndsAt, now), scope: "ip" };
  }
  return { allowed: true };
}

/** Counts a failure in one atomic statement per key; returns true when this failure locked the account name. */
export async function recordSignInFailure(email: string, ip: string | null, now = new Date()): Promise<{ locked: boolean }> {
  if (ip) await bumpCounter(ipKey(ip), IP_WINDOW_MS, now);
  const { count } = await bumpCounter(accountKey(email), ACCOUNT_MEMORY_MS, now);
  if (count % ACCOUNT_FAILURE_LIMIT !== 0) return { locked: false };
  const lockouts = count / ACCOUNT_FAILURE_LIMIT;
  const duration = Math.min(LOCKOUT_MS * 2 ** (lockouts - 1), MAX_LOCKOUT_MS);
  await lockCounter(accountKey(email), new Date(now.getTime() + duration));
  return { locked: true };
}

export async function recordSignInSuccess(email: string): Promise<void> {
  await clearCounter(accountKey(email));
}
