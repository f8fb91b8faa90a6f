import "server-only";
import { bumpCounter, clearCounter, readCounters, lockCounter, secondsUntil } from "../rate-limit/counters";

// Guessable factors (TOTP and backup codes) lock after FACTOR_FAILURE_LIMIT failures within
// FAILURE_WINDOW: a 6-digit code cannot be brute-forced through the MFA step, not even by many
// requests at once. Passkeys are not guessable and are never locked by this.
export const FACTOR_FAILURE_LIMIT = 5;
export const FACTOR_LOCK_MS = 15 * 60_000;
const FAILURE_WINDOW_MS = 15 * 60_000;

const key = (userId: string) => `mfa:user:${userId}`;

export type FactorLock = { locked: false } | { locked: true; retryAfterSeconds: number };

async function factorLock(userId: string, now = new Date()): Promise<FactorLock> {
  const counter = (await readCounters([key(userId)])).get(key(userId));
  if (counter?.lockedUntil && counter.lockedUntil > now) return { locked: true, retryAfterSeconds: secondsUntil(counter.lockedUntil, now) };
  return { locked: false };
}

/**
 * Takes one of the FACTOR_FAILURE_LIMIT tries of the window before a code is checked, in one
 * atomic statement, so requests sent in parallel cannot all pass a check made before any of them
 * has failed. A success gives the tries back (clearFactorFailures); a failure keeps its try.
 */
export async function takeFactorTry(userId: string, now = new Date()): Promise<FactorLock & { lastTry?: boolean }> {
  const lock = await factorLock(userId, now);
  if (lock.locked) return lock;
  const { count } = await bumpCounter(key(userId), FAILURE_WINDOW_MS, now);
  if (count > FACTOR_FAILURE_LIMIT) return { locked: true, retryAfterSeconds: Math.ceil(FAILURE_WINDOW_MS / 1000) };
  return { locked: false, lastTry: count === FACTOR_FAILURE_LIMIT };
}

/** The last try of the window failed: the factors lock. */
export async function lockFactors(userId: string, now = new Date()): Promise<void> {
  await lockCounter(key(userId), new Date(now.getTime() + FACTOR_LOCK_MS));
}

export async function clearFactorFailures(userId: string): Promise<void> {
  await clearCounter(key(userId));
}
