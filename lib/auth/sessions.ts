import "server-only";
import { db, type Prisma, type SessionStage } from "../db/client";
import { readConfig } from "../config";
import type { RequestContext } from "../http/request-context";
import { audit, SYSTEM_CONTEXT, type AuditContext } from "../audit/context";
import { liveSessionWhere, sessionIdleMs } from "./live-session";
import { learnFromCompletedSignIn, reportSignIn } from "../risk";
import { deviceSignedIn, disownDevice, revokeDeviceTrust } from "../devices";
import { GROUP_IDS } from "../groups/membership";

export type SessionEndReason =
  | "sign_out"
  | "revoked_by_user"
  | "revoked_by_admin"
  | "user_disabled"
  | "password_changed"
  | "reported_by_user"
  | "incident_response"
  | "mfa_reset"
  | "password_guessing"
  | "idle_timeout"
  | "password_distrusted"
  | "account_locked"
  // A sign-in waiting to enroll a first factor, when the account got one meanwhile (lib/auth/action.ts).
  | "factor_enrolled_elsewhere"
  // A role that requires a second factor was given to an account without one (lib/auth/users.ts setRoles).
  | "second_factor_now_required";

/**
 * Ends that take a sign-in back rather than close it: the apps let in from that browser can no
 * longer refresh their tokens either (lib/oidc/token-policy.ts). A sign-out or an idle timeout
 * leaves them, as apps with offline access expect; a password change disconnects apps when asked.
 */
export const REVOKING_END_REASONS = [
  "revoked_by_user", "revoked_by_admin", "reported_by_user", "incident_response", "mfa_reset", "password_guessing", "password_distrusted", "account_locked",
] as const satisfies readonly SessionEndReason[];

// lastSeenAt is written at most this often, so browsing does not write on every request.
const TOUCH_INTERVAL_MS = 60_000;

// A session waiting for its MFA step, enrollment or required password change is short-lived: a
// password alone buys ten minutes on the verify page, nothing more.
const PENDING_SESSION_MS = 10 * 60_000;
const sessionLifetimeMs = () => readConfig().GATEHOUSE_SESSION_HOURS * 3_600_000;
const lifetimeMs = (stage: SessionStage) => (stage === "active" ? sessionLifetimeMs() : PENDING_SESSION_MS);

export type AuthenticatedStage = "active" | "password_change_required";

/**
 * The stage of a sign-in that has all the factors it needs: active, unless an administrator (or an
 * incident response) requires a new password first. Then the session can only change the password.
 */
export const authenticatedStage = (user: { passwordResetRequiredAt: Date | null }): AuthenticatedStage =>
  user.passwordResetRequiredAt ? "password_change_required" : "active";

export type NewSession = {
  stage: SessionStage;
  requiredFactor?: "any" | "passkey" | null;
  authMethods: string[];
  deviceId: string | null;
  mfaVerified?: boolean;
  riskScore?: number | null;
};

export async function createSession(userId: string, client: RequestContext, init: NewSession) {
  const now = new Date();
  return db().session.create({
    data: {
      userId,
      expiresAt: new Date(now.getTime() + lifetimeMs(init.stage)),
      ipAddress: client.ip,
      userAgent: client.userAgent,
      stage: init.stage,
      requiredFactor: init.requiredFactor ?? null,
      authMethods: init.authMethods,
      deviceId: init.deviceId,
      mfaVerifiedAt: init.mfaVerified ? now : null,
      passwordVerifiedAt: init.authMethods.includes("password") ? now : null,
      riskScore: init.riskScore ?? null,
    },
  });
}

/**
 * Completes a pending session after its MFA step or enrollment: it now reaches the app, or, when a
 * new password is required, moves on to that (with a fresh ten minutes, not the full lifetime).
 */
export async function activateSession(sessionId: string, method: string | null, now = new Date()): Promise<AuthenticatedStage | null> {
  const session = await db().session.findUniqueOrThrow({ where: { id: sessionId }, include: { user: { select: { passwordResetRequiredAt: true } } } });
  const stage = authenticatedStage(session.user);
  // A second factor passed here is what the cookie's new generation is for (findSessionForCookie).
  // An enrollment raises none: whoever holds the pending cookie could have enrolled a factor of
  // their own anyway, and a re-issued cookie would make Next.js re-render away the new backup codes.
  const verified = method ? { authMethods: [...session.authMethods, method], mfaVerifiedAt: now, cookieGeneration: { increment: 1 } } : {};
  // Null when the sign-in was ended meanwhile (an account lock, a revocation): it stays ended; and
  // when another request completed it first (two proofs sent at once): one raises the cookie's
  // generation, the one its browser is re-issued, not two, which no browser's cookie would match.
  const { count } = await db().session.updateMany({
    where: { id: sessionId, endedAt: null, stage: { in: ["mfa_required", "enrollment_required"] } },
    data: { stage, requiredFactor: null, ...verified, expiresAt: new Date(now.getTime() + lifetimeMs(stage)) },
  });
  if (count === 0) return null;
  if (stage === "active") await signInReachedApp(sessionId);
  return stage;
}

/** This user's session, still valid and waiting for a new password, of a user not disabled. */
const waitingForPasswordChange = (userId: string, sessionId: string, now: Date) =>
  ({ id: sessionId, userId, stage: "password_change_required", ...liveSessionWhere(now), user: { disabledAt: null } }) satisfies Prisma.SessionWhereInput;

/** Is this session waiting for a new password? */
export async function awaitsPasswordChange(userId: string, sessionId: string, now = new Date()): Promise<boolean> {
  return !!(await db().session.findFirst({ where: waitingForPasswordChange(userId, sessionId, now), select: { id: true } }));
}

/**
 * Ends the password-change stage of the user's session (inside the caller's transaction, with the
 * new password): the session gets its full lifetime. False if the session is not, or no longer,
 * waiting for a password change, so two submissions cannot both complete it.
 */
export async function leavePasswordChangeStage(tx: Prisma.TransactionClient, userId: string, sessionId: string, now = new Date()): Promise<boolean> {
  const { count } = await tx.session.updateMany({
    where: waitingForPasswordChange(userId, sessionId, now),
    data: { stage: "active", expiresAt: new Date(now.getTime() + sessionLifetimeMs()) },
  });
  return count > 0;
}

/**
 * A sign-in reached the app (its second factor and any required new password done): only now is
 * it the account's last sign-in (what idle-account reviews go by: a stolen password that fails
 * the second factor must not keep a leaver's account looking used), something the risk
 * baseline learns from, and its browser a known device of the account.
 */
export async function signInReachedApp(sessionId: string): Promise<void> {
  const session = await db().session.findUniqueOrThrow({ where: { id: sessionId }, select: { userId: true, createdAt: true, deviceId: true } });
  if (session.deviceId) await deviceSignedIn(session.deviceId, session.createdAt);
  // Never backwards: an older pending sign-in finishing after a newer one does not rewind it.
  await db().user.updateMany({ where: { id: session.userId, OR: [{ lastSignInAt: null }, { lastSignInAt: { lt: session.createdAt } }] }, data: { lastSignInAt: session.createdAt } });
  await learnFromCompletedSignIn(sessionId);
}

/** Step-up: records a fresh MFA verification on an active session. */
export async function markMfaVerified(sessionId: string, method: string, now = new Date()): Promise<void> {
  const session = await db().session.findUniqueOrThrow({ where: { id: sessionId } });
  const authMethods = session.authMethods.includes(method) ? session.authMethods : [...session.authMethods, method];
  await db().session.update({ where: { id: sessionId }, data: { mfaVerifiedAt: now, authMethods } });
}

/** Step-up of a user with no second factor: records that the password was just entered again. */
export async function markPasswordVerified(sessionId: string, now = new Date()): Promise<void> {
  await db().session.update({ where: { id: sessionId }, data: { passwordVerifiedAt: now } });
}

/** What a browser's session cookie names: the session row, its user, and the cookie's generation (Session.cookieGeneration). */
export type SessionCookie = { sid: string; uid: string; gen: number };

/**
 * The session a browser's cookie stands for, if it is still valid (any stage) and the cookie is of
 * its current generation: a cookie issued before the sign-in's MFA step is worth nothing once the
 * step is passed, whoever holds it (the browser that passed it gets a new one).
 */
export function findSessionForCookie(cookie: SessionCookie, now = new Date()) {
  return findActiveSession(cookie.sid, now, cookie);
}

/**
 * The session with its user, if it is still valid: not ended, not expired, user not disabled. Any
 * stage. With `cookie`, only if the cookie is this session's user's and of its current generation,
 * checked before the visit is recorded: a stale cookie must not keep the session from idling out.
 */
export async function findActiveSession(sessionId: string, now = new Date(), cookie?: Omit<SessionCookie, "sid">) {
  const session = await db().session.findUnique({
    where: { id: sessionId },
    include: { user: { select: { id: true, email: true, name: true, roles: true, disabledAt: true, ...GROUP_IDS } }, device: { select: { trustedUntil: true } } },
  });
  if (!session || session.endedAt || session.expiresAt <= now || session.user.disabledAt) return null;
  if (cookie && (session.user.id !== cookie.uid || session.cookieGeneration !== cookie.gen)) return null;
  const idleMs = sessionIdleMs();
  if (idleMs !== null && now.getTime() - session.lastSeenAt.getTime() > idleMs) {
    await endIdleSession(session, new Date(session.lastSeenAt.getTime() + idleMs));
    return null;
  }
  if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
    await db().session.update({ where: { id: sessionId }, data: { lastSeenAt: now } });
  }
  return session;
}

export function listActiveSessions(userId: string, now = new Date()) {
  return db().session.findMany({
    where: { userId, ...liveSessionWhere(now) },
    orderBy: { lastSeenAt: "desc" },
    select: { id: true, createdAt: true, lastSeenAt: true, expiresAt: true, ipAddress: true, userAgent: true, stage: true, authMethods: true, device: { select: { label: true } } },
  });
}

/**
 * A session found unused for longer than the idle limit ends then, dated when it went idle, and is
 * audited as the system's doing (sessions that are never used again simply stop counting as live).
 */
async function endIdleSession(session: { id: string; userId: string; lastSeenAt: Date }, idleSince: Date): Promise<void> {
  const { count } = await db().session.updateMany({ where: { id: session.id, endedAt: null }, data: { endedAt: idleSince, endReason: "idle_timeout" } });
  if (count === 0) return;
  await audit(SYSTEM_CONTEXT, {
    type: "session", action: "session.idle_timeout", outcome: "success", resource: { type: "session", id: session.id },
    metadata: { userId: session.userId, lastSeenAt: session.lastSeenAt.toISOString() },
  });
}

/** Ends one of a user's sessions. Scoped by userId so nobody can end another user's session by id. */
export function endSession(userId: string, sessionId: string, reason: SessionEndReason, ctx: AuditContext): Promise<boolean> {
  return endOneSession({ id: sessionId, userId }, reason, ctx);
}

/** Signs out the browser holding this cookie; a cookie of an earlier generation (see findSessionForCookie) signs nothing out. */
export function signOutCookieSession(cookie: SessionCookie, ctx: AuditContext): Promise<boolean> {
  return endOneSession({ id: cookie.sid, userId: cookie.uid, cookieGeneration: cookie.gen }, "sign_out", ctx);
}

async function endOneSession(where: { id: string; userId: string; cookieGeneration?: number }, reason: SessionEndReason, ctx: AuditContext): Promise<boolean> {
  const { id: sessionId, userId } = where;
  const { count } = await db().session.updateMany({
    where: { ...where, endedAt: null },
    data: { endedAt: new Date(), endReason: reason },
  });
  if (count > 0) {
    await audit(ctx, {
      type: "session", action: reason === "sign_out" ? "session.sign_out" : "session.revoke", outcome: "success",
      resource: { type: "session", id: sessionId }, metadata: { userId, reason },
    });
  }
  return count > 0;
}

/** Ends all of a user's sessions, optionally keeping one (the caller's own). Returns how many ended. */
export function endAllSessions(userId: string, reason: SessionEndReason, ctx: AuditContext, keepSessionId?: string): Promise<number> {
  return endSessions(userId, keepSessionId ? { id: { not: keepSessionId } } : {}, reason, ctx, keepSessionId ?? null);
}

/** Ends the user's sessions that only the password vouches for: no second factor or passkey verified in them. */
export function endPasswordOnlySessions(userId: string, ctx: AuditContext): Promise<number> {
  return endSessions(userId, { mfaVerifiedAt: null }, "password_distrusted", ctx, "sessions verified with a second factor");
}

/** Sign-ins half way (waiting for a second factor, an enrollment or a new password) end: an account lock stops them too. */
export function endPendingSignIns(userId: string, ctx: AuditContext): Promise<number> {
  return endSessions(userId, { stage: { not: "active" } }, "account_locked", ctx, "signed-in sessions");
}

async function endSessions(userId: string, which: Prisma.SessionWhereInput, reason: SessionEndReason, ctx: AuditContext, kept: string | null): Promise<number> {
  const count = await markSessionsEnded(db(), userId, which, reason);
  await auditSessionsEnded(ctx, userId, reason, count, kept);
  return count;
}

/**
 * Ends the user's sessions matching `which` with the caller's client (a transaction, when the end
 * must commit with a change: a new password), and returns how many were live; auditSessionsEnded
 * records it once committed.
 */
export async function markSessionsEnded(client: Prisma.TransactionClient, userId: string, which: Prisma.SessionWhereInput, reason: SessionEndReason, now = new Date()): Promise<number> {
  // Every one not ended is marked (an idle one would come back if the idle limit were raised), but
  // only the live ones count as signed out now.
  const count = await client.session.count({ where: { userId, ...liveSessionWhere(now), ...which } });
  await client.session.updateMany({ where: { userId, endedAt: null, ...which }, data: { endedAt: now, endReason: reason } });
  return count;
}

/** The audit event for sessions ended together (none: no event). `kept` says which were left, if any. */
export async function auditSessionsEnded(ctx: AuditContext, userId: string, reason: SessionEndReason, count: number, kept: string | null): Promise<void> {
  if (count === 0) return;
  await audit(ctx, { type: "session", action: "session.revoke_all", outcome: "success", resource: { type: "user", id: userId }, metadata: { reason, sessionsEnded: count, kept } });
}

/** A session's stage and, if it ended, when and why (for the risk console's attempt page). */
export function sessionStatus(sessionId: string) {
  return db().session.findUnique({ where: { id: sessionId }, select: { stage: true, endedAt: true, endReason: true } });
}

/** When and how a session was authenticated (for OIDC's auth_time, amr and max_age). */
export async function sessionAuthentication(sessionId: string): Promise<{ authTime: Date; authMethods: string[] }> {
  const session = await db().session.findUniqueOrThrow({ where: { id: sessionId }, select: { createdAt: true, authMethods: true } });
  return { authTime: session.createdAt, authMethods: session.authMethods };
}

/**
 * "This wasn't me" about one of the user's sign-ins: a security event (lib/risk), its session
 * ended, its device no longer trusted, and disowned (its cookie no longer names a device of the
 * user: that browser's next sign-in is a new device again, scored and mailed so).
 */
export async function reportUnrecognizedSignIn(userId: string, attemptId: string, ctx: AuditContext): Promise<{ sessionEnded: boolean; alreadyReported: boolean } | null> {
  const reported = await reportSignIn(userId, attemptId, ctx);
  if (!reported) return null;
  const sessionEnded = reported.sessionId ? await endSession(userId, reported.sessionId, "reported_by_user", ctx) : false;
  if (reported.deviceId) {
    await revokeDeviceTrust(userId, reported.deviceId, ctx);
    await disownDevice(userId, reported.deviceId);
  }
  return { sessionEnded, alreadyReported: reported.alreadyReported };
}
