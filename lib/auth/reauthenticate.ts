import "server-only";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { passwordDistrusted, verifyPassword } from "./password";
import { mailConfigured } from "../mail";
import { endSession, markPasswordVerified } from "./sessions";
import { auditPasswordLockout, clearPasswordFailures, sessionTryKey, takePasswordTry } from "./throttle";
import type { CurrentUser } from "./session-user";
import type { ActionState } from "./action";

// The password entered again inside a session: the current password when changing it, and the
// step-up of a user who has no second factor. Guesses come out of the session's own budget, as
// many as sign-in allows (sessionTryKey), and the session that uses it up ends: a stolen session
// cookie must not become a way to guess the password without limit.

export type SessionPasswordCheck =
  | { ok: true }
  | { ok: false; reason: "wrong_password" }
  /** Right, but distrusted (a new password was required since it was set): it proves nothing. */
  | { ok: false; reason: "password_distrusted" }
  | { ok: false; reason: "too_many_tries"; retryAfterSeconds: number; signedOut: boolean };

type Who = Pick<CurrentUser, "id" | "email" | "sessionId">;

/**
 * Checks the user's password within their session; `action` names the audit event of a failure.
 * A distrusted password (see passwordDistrusted) counts only with `factorVerified`: a session
 * opened before the incident may be the attacker's, and must not choose the new password, or
 * step up to enroll a factor, on the old one's word.
 */
export async function checkSessionPassword(
  user: Who, password: string, action: "password.change" | "session.reauthenticate", ctx: AuditContext, { now = new Date(), factorVerified = false } = {},
): Promise<SessionPasswordCheck> {
  const resource = { type: "user", id: user.id };
  const tries = sessionTryKey(user.sessionId);
  const tried = await takePasswordTry(user.email, now, tries);
  if (!tried.allowed) {
    await audit(ctx, { type: "authentication", action, outcome: "blocked", resource, metadata: { reason: "too_many_tries", retryAfterSeconds: tried.retryAfterSeconds } });
    return { ok: false, reason: "too_many_tries", retryAfterSeconds: tried.retryAfterSeconds, signedOut: false };
  }
  const credential = await db().passwordCredential.findUnique({ where: { userId: user.id }, select: { hash: true, changedAt: true, user: { select: { passwordResetRequiredAt: true } } } });
  if (credential && (await verifyPassword(credential.hash, password))) {
    // The owner proved it: their session's tries come back, and so does the account name's, as after a sign-in.
    await clearPasswordFailures(user.email, tries);
    await clearPasswordFailures(user.email);
    if (!factorVerified && passwordDistrusted(credential.user.passwordResetRequiredAt, credential.changedAt)) {
      await audit(ctx, { type: "security", action, outcome: "blocked", resource, metadata: { reason: "password_distrusted" } });
      return { ok: false, reason: "password_distrusted" };
    }
    return { ok: true };
  }
  await audit(ctx, { type: "authentication", action, outcome: "failure", resource, metadata: { reason: "wrong_password" } });
  if (!tried.locksIfWrong) return { ok: false, reason: "wrong_password" };
  await auditPasswordLockout(ctx, user.id, "repeated_password_failures_in_session");
  await endSession(user.id, user.sessionId, "password_guessing", ctx);
  return { ok: false, reason: "too_many_tries", retryAfterSeconds: 0, signedOut: true };
}

/** Step-up for a user with no second factor: the password again, recorded on the session. */
export async function reauthenticateWithPassword(user: Who, password: string, ctx: AuditContext, now = new Date()): Promise<SessionPasswordCheck> {
  const check = await checkSessionPassword(user, password, "session.reauthenticate", ctx, { now });
  if (!check.ok) return check;
  await markPasswordVerified(user.sessionId, now);
  await audit(ctx, { type: "authentication", action: "session.reauthenticate", outcome: "success", resource: { type: "session", id: user.sessionId }, metadata: { method: "password" } });
  return check;
}

/** What a form shows for a refused password: `wrongMessage` under its `field`, or why it may not be tried (the session may have just ended). */
export function passwordRefused(check: Exclude<SessionPasswordCheck, { ok: true }>, field: string, wrongMessage: string): ActionState {
  if (check.reason === "wrong_password") return { ok: false, fieldErrors: { [field]: [wrongMessage] } };
  if (check.reason === "password_distrusted") {
    return {
      ok: false,
      message: `Your password must be replaced: it may be known to someone else, so it no longer proves it is you. ${
        mailConfigured() ? "Confirm with a second factor if you have one, or sign out and use “Forgot your password?”." : "Confirm with a second factor if you have one, or ask your administrator for a temporary password."
      }`,
    };
  }
  if (check.signedOut) return { ok: false, message: "Too many wrong passwords: this session was signed out. Sign in again later." };
  const minutes = Math.max(1, Math.ceil(check.retryAfterSeconds / 60));
  return { ok: false, message: `Too many wrong passwords. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.` };
}
