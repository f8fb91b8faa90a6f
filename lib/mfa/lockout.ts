import "server-only";
import { bumpCounter, clearCounter, readCounters, lockCounter, secondsUntil } from "../rate-limit/counters";

// Guessable factors (TOTP and backup codes) lock after FACTOR_FAILURE_LIMIT failures within
// FAILURE_WINDOW: a 6-digit code cannot be brute-forced through the MFA step. Passkeys are not
// guessable and are never locked by this.
export const FACTOR_FAILURE_LIMIT = 5;
export const FACTOR_LOCK_MS = 15 * 60_000;
const FAILURE_WINDOW_MS = 15 * 60_000;

const key = (userId: string) => `mfa:user:${userId}`;

export type FactorLock = { locked: false } | { locked: true; retryAfterSeconds: number };

export async function factorLock(userId: string, now = new Date()): Promise<FactorLock> {
  const counter = (await readCounters([key(userId)])).get(key(userId));
  if (counter?.lockedUntil && counter.lockedUntil > now) return { locked: true, retryAfterSeconds: secondsUntil(counter.lockedUntil, now) };
  return { locked: false };
}

/** Counts a failed code; returns whether this failure locked the factors. */
export async function recordFactorFailure(userId: string, now = new Date()): Promise<{ locked: boolean }> {
  const { count } = await bumpCounter(key(userId), FAILURE_WINDOW_MS, now);
  if (count < FACTOR_FAILURE_LIMIT) return { locked: false };
  await lockCounter(key(userId), new Date(now.getTime() + FACTOR_LOCK_MS));
  return { locked: true };
}

export async function clearFactorFailures(userId: string): Promise<void> {
  await clearCounter(key(userId));
}
