import "server-only";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { verifyPassword } from "./password";
import { endSession, markPasswordVerified } from "./sessions";
import { clearPasswordFailures, takePasswordTry } from "./throttle";
import type { CurrentUser } from "./session-user";
import type { ActionState } from "./action";

// The password entered again inside a session: the current password when changing it, and the
// step-up of a user who has no second factor. Guesses come out of the same budget as sign-in's
// (the account's failure counter), and the session that uses it up ends: a stolen session
// cookie must not become a way to guess the password without limit.

export type SessionPasswordCheck =
  | { ok: true }
  | { ok: false; reason: "wrong_password" }
  | { ok: false; reason: "too_many_tries"; retryAfterSeconds: number; signedOut: boolean };

type Who = Pick<CurrentUser, "id" | "email" | "sessionId">;

/** Checks the user's password within their session; `action` names the audit event of a failure. */
export async function checkSessionPassword(user: Who, password: string, action: "password.change" | "session.reauthenticate", ctx: AuditContext, now = new Date()): Promise<SessionPasswordCheck> {
  const resource = { type: "user", id: user.id };
  const tried = await takePasswordTry(user.email, now);
  if (!tried.allowed) {
    await audit(ctx, { type: "authentication", action, outcome: "blocked", resource, metadata: { reason: "too_many_tries", retryAfterSeconds: tried.retryAfterSeconds } });
    return { ok: false, reason: "too_many_tries", retryAfterSeconds: tried.retryAfterSeconds, signedOut: false };
  }
  const credential = await db().passwordCredential.findUnique({ where: { userId: user.id }, select: { hash: true } });
  if (credential && (await verifyPassword(credential.hash, password))) {
    await clearPasswordFailures(user.email);
    return { ok: true };
  }
  await audit(ctx, { type: "authentication", action, outcome: "failure", resource, metadata: { reason: "wrong_password" } });
  if (!tried.locksIfWrong) return { ok: false, reason: "wrong_password" };
  await audit(ctx, { type: "security", action: "account.lockout", outcome: "blocked", resource, metadata: { reason: "repeated_password_failures_in_session" } });
  await endSession(user.id, user.sessionId, "password_guessing", ctx);
  return { ok: false, reason: "too_many_tries", retryAfterSeconds: 0, signedOut: true };
}

/** Step-up for a user with no second factor: the password again, recorded on the session. */
export async function reauthenticateWithPassword(user: Who, password: string, ctx: AuditContext, now = new Date()): Promise<SessionPasswordCheck> {
  const check = await checkSessionPassword(user, password, "session.reauthenticate", ctx, now);
  if (!check.ok) return check;
  await markPasswordVerified(user.sessionId, now);
  await audit(ctx, { type: "authentication", action: "session.reauthenticate", outcome: "success", resource: { type: "session", id: user.sessionId }, metadata: { method: "password" } });
  return check;
}

/** What a form shows for a refused password: `wrongMessage` under its `field`, or why it may not be tried (the session may have just ended). */
export function passwordRefused(check: Exclude<SessionPasswordCheck, { ok: true }>, field: string, wrongMessage: string): ActionState {
  if (check.reason === "wrong_password") return { ok: false, fieldErrors: { [field]: [wrongMessage] } };
  if (check.signedOut) return { ok: false, message: "Too many wrong passwords: this session was signed out. Sign in again later." };
  const minutes = Math.max(1, Math.ceil(check.retryAfterSeconds / 60));
  return { ok: false, message: `Too many wrong passwords. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.` };
}
