import "server-only";
import { createHash } from "node:crypto";
import { db, type Prisma } from "../db/client";
import { knownDevice } from "../devices";
import { audit, type AuditContext } from "../audit/context";
import { endPendingSignIns } from "./sessions";
import { bumpCounter, clearCounter, lockCounter, moveCounter, readCounters, secondsUntil, takeTry } from "../rate-limit/counters";

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
const hashed = (email: string) => createHash("sha256").update(email).digest("hex");
const accountKey = (email: string) => `signin:acct:${hashed(email)}`;
// A deliberate lock (an incident's response, a sign-in blocked as too risky) is kept apart from the
// failure counter: it stops every way of signing in, while failed passwords only stop passwords
// (so someone guessing a user's password cannot lock them out of their passkey).
const lockKey = (email: string) => `signin:lock:${hashed(email)}`;

// Failed passwords from a browser this account has signed in on before are counted for that
// device alone (OWASP's device cookies): strangers guessing a user's password lock the account
// name for every other browser, but not for the owner's own. Its cookie is HttpOnly, and it names
// a device only together with this account.
const deviceKey = (deviceId: string) => `signin:dev:${deviceId}`;

// The password typed again inside a session (a password change, a step-up without a second factor)
// spends that session's own tries: a stranger who typed wrong passwords for the email must not
// stop the signed-in owner from changing it, nor leave them one typo from being signed out. A
// stolen session cookie gets as few guesses as a stranger: the session ends when they run out.
export const sessionTryKey = (sessionId: string) => `signin:sess:${hashed(sessionId)}`;

/** Whose tries a password sign-in spends: the device's own, from a known device of the account (`userId`), else the account name's. */
export async function passwordTryKey(email: string, userId: string | null, deviceToken: string | null): Promise<string> {
  const device = userId && deviceToken ? await knownDevice(userId, deviceToken) : null;
  return device ? deviceKey(device.id) : accountKey(email);
}

/** May a password be tried now with these tries (passwordTryKey) for this account name: no failure lockout, no deliberate lock? */
export async function checkPasswordTries(email: string, tries: string, now = new Date()): Promise<ThrottleVerdict> {
  // Only the failure lockout, which any typed email can reach: a deliberate lock exists only on
  // real accounts, so answering it here would tell a stranger the account exists. It is answered
  // after the password is checked, to whoever typed the right one (sign-in.ts).
  return verdict(await lockedUntil([tries], now), now);
}

/** The same, for a request that has only the typed email and the browser's device cookie (the HTTP pre-check). */
export async function checkSignInThrottle(email: string, deviceToken: string | null, now = new Date()): Promise<ThrottleVerdict> {
  const user = deviceToken ? await db().user.findUnique({ where: { email }, select: { id: true } }) : null;
  return checkPasswordTries(email, await passwordTryKey(email, user?.id ?? null, deviceToken), now);
}

/** Is the account deliberately locked (lockAccountName)? Checked by every way of signing in. */
export async function checkAccountLock(email: string, now = new Date()): Promise<ThrottleVerdict> {
  return verdict(await lockedUntil([lockKey(email)], now), now);
}

/** Until when password sign-in is refused for this account name (a lock or the failure lockout), or null. */
export async function signInLockedUntil(email: string, now = new Date()): Promise<Date | null> {
  return lockedUntil([accountKey(email), lockKey(email)], now);
}

async function lockedUntil(keys: string[], now: Date): Promise<Date | null> {
  const counters = await readCounters(keys);
  const times = keys.map((key) => counters.get(key)?.lockedUntil).filter((t): t is Date => !!t && t > now);
  return times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : null;
}

const verdict = (until: Date | null, now: Date): ThrottleVerdict => (until ? { allowed: false, retryAfterSeconds: secondsUntil(until, now) } : { allowed: true });

const PASSWORD_TRIES = { windowMs: ACCOUNT_MEMORY_MS, limit: ACCOUNT_FAILURE_LIMIT, lockMs: LOCKOUT_MS, maxLockMs: MAX_LOCKOUT_MS };

/**
 * Takes one password try for this account name before the password is checked (the try that
 * would be the ACCOUNT_FAILURE_LIMIT-th failure locks at once), so many guesses sent at once get
 * no more tries than guesses sent one by one. A success gives them back (clearPasswordFailures).
 */
export async function takePasswordTry(email: string, now = new Date(), key = accountKey(email)): Promise<ThrottleVerdict & { locksIfWrong?: boolean }> {
  const tried = await takeTry(key, PASSWORD_TRIES, now);
  return tried.taken ? { allowed: true, locksIfWrong: tried.locksIfFailed } : verdict(tried.lockedUntil, now);
}

/** The security event of a password try that locked (a sign-in's, a session's, a recovery link's): `reason` says whose tries. */
export async function auditPasswordLockout(ctx: AuditContext, userId: string, reason: string): Promise<void> {
  await audit(ctx, { type: "security", action: "account.lockout", outcome: "blocked", resource: { type: "user", id: userId }, metadata: { reason } });
}

/** Locks the account name until then, for every way of signing in (an incident response, a sign-in the risk engine blocked). */
export async function lockAccountName(email: string, until: Date, now = new Date()): Promise<void> {
  await bumpCounter(lockKey(email), until.getTime() - now.getTime(), now);
  await lockCounter(lockKey(email), until);
}

/** A deliberate lock on an account: no sign-in starts, and none already half way finishes. */
export async function lockAccount(user: { id: string; email: string }, until: Date, ctx: AuditContext, now = new Date()): Promise<void> {
  await lockAccountName(user.email, until, now);
  await endPendingSignIns(user.id, ctx);
}

/**
 * The account's sign-in name changed (an admin changed its email): its lock and failure count go
 * with it, kept at the longer of what either name had, so the change neither lifts a lock nor
 * leaves one behind for whoever takes the old address next. Inside the caller's transaction.
 */
export async function moveSignInCounters(tx: Prisma.TransactionClient, from: string, to: string): Promise<void> {
  for (const key of [accountKey, lockKey]) await moveCounter(tx, key(from), key(to));
}

/** An admin lifts a lock (after checking with the user): the lock and the failure count go. */
export async function liftSignInLock(email: string): Promise<void> {
  await clearCounter(lockKey(email));
  await clearCounter(accountKey(email));
}

/** The failed-password count of an account name (or the tries `key` names) goes: a success, or a new password; a deliberate lock stays. */
export async function clearPasswordFailures(email: string, key = accountKey(email)): Promise<void> {
  await clearCounter(key);
}
