import "server-only";
import { audit, type AuditContext } from "../audit";
import { clearCounter, readCounters, secondsUntil, takeTry } from "../rate-limit/counters";

// Guessable factors (TOTP and backup codes) lock after FACTOR_FAILURE_LIMIT failures with less
// than a day between each, for 15 minutes, doubling with each further lock up to a day: a 6-digit
// code cannot be brute-forced through the MFA step, not by many requests at once, and not slowly
// either (with a short window, four guesses every quarter hour never locked: ~380 a day). Passkeys are not
// guessable and are never locked by this.
export const FACTOR_FAILURE_LIMIT = 5;
const DAY_MS = 24 * 60 * 60_000;
const FACTOR_TRIES = { windowMs: DAY_MS, limit: FACTOR_FAILURE_LIMIT, lockMs: 15 * 60_000, maxLockMs: DAY_MS };

const key = (userId: string) => `mfa:user:${userId}`;

/**
 * Takes one try before a code is checked (takeTry: atomic, and the last try of the window locks
 * at once), so requests sent in parallel get no more tries than requests sent one by one. A
 * success gives the tries back (clearFactorFailures); a failure keeps its try.
 */
export async function takeFactorTry(userId: string, now = new Date()): Promise<{ locked: false; lastTry: boolean } | { locked: true; retryAfterSeconds: number }> {
  const tried = await takeTry(key(userId), FACTOR_TRIES, now);
  return tried.taken ? { locked: false, lastTry: tried.locksIfFailed } : { locked: true, retryAfterSeconds: secondsUntil(tried.lockedUntil, now) };
}

/** The security event of a code try that locked the account's codes (at the MFA step, a step-up or confirming a setup). */
export async function auditFactorLockout(ctx: AuditContext, userId: string): Promise<void> {
  await audit(ctx, { type: "security", action: "mfa.factor.lock", outcome: "blocked", resource: { type: "user", id: userId }, metadata: { reason: "repeated_code_failures" } });
}

export async function clearFactorFailures(userId: string): Promise<void> {
  await clearCounter(key(userId));
}

/** Until when codes (TOTP, backup codes) are refused for this user, or null: shown to admins, who can lift it. */
export async function factorLockedUntil(userId: string, now = new Date()): Promise<Date | null> {
  const until = (await readCounters([key(userId)])).get(key(userId))?.lockedUntil;
  return until && until > now ? until : null;
}
