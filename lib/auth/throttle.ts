import "server-only";
import { createHash } from "node:crypto";
import { bumpCounter, clearCounter, lockCounter, readCounters, secondsUntil } from "../rate-limit/counters";

// Account lockout, shared by every instance through PostgreSQL: after ACCOUNT_FAILURE_LIMIT
// consecutive failures the account name is locked for LOCKOUT, doubling with each further
// lockout up to MAX_LOCKOUT. Counters are keyed by the typed email, whether or not an account
// exists, so the answers never reveal which accounts exist. Failures per IP (brute force,
// credential stuffing) are the risk engine's to weigh (lib/risk).
export const ACCOUNT_FAILURE_LIMIT = 5;
export const LOCKOUT_MS = 15 * 60_000;
const MAX_LOCKOUT_MS = 24 * 60 * 60_000;
const ACCOUNT_MEMORY_MS = 24 * 60 * 60_000;

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

// Hashed so the table does not collect a list of typed email addresses.
const accountKey = (email: string) => `signin:acct:${createHash("sha256").update(email).digest("hex")}`;

export async function checkSignInThrottle(email: string, now = new Date()): Promise<ThrottleVerdict> {
  const account = (await readCounters([accountKey(email)])).get(accountKey(email));
  if (account?.lockedUntil && account.lockedUntil > now) {
    return { allowed: false, retryAfterSeconds: secondsUntil(account.lockedUntil, now) };
  }
  return { allowed: true };
}

/** Counts a failure in one atomic statement; returns true when this failure locked the account name. */
export async function recordSignInFailure(email: string, now = new Date()): Promise<{ locked: boolean }> {
  const { count } = await bumpCounter(accountKey(email), ACCOUNT_MEMORY_MS, now);
  if (count % ACCOUNT_FAILURE_LIMIT !== 0) return { locked: false };
  const lockouts = count / ACCOUNT_FAILURE_LIMIT;
  const duration = Math.min(LOCKOUT_MS * 2 ** (lockouts - 1), MAX_LOCKOUT_MS);
  await lockCounter(accountKey(email), new Date(now.getTime() + duration));
  return { locked: true };
}

/** Locks the account name until then (a sign-in the risk engine blocked). */
export async function lockAccountName(email: string, until: Date, now = new Date()): Promise<void> {
  await bumpCounter(accountKey(email), ACCOUNT_MEMORY_MS, now);
  await lockCounter(accountKey(email), until);
}

export async function recordSignInSuccess(email: string): Promise<void> {
  await clearCounter(accountKey(email));
}
