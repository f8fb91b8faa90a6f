import "server-only";
import { db } from "../db/client";
import { readConfig } from "../config";
import type { RequestContext } from "../http/request-context";
import { audit, type AuditContext } from "./audit-context";

export type SessionEndReason =
  | "sign_out"
  | "revoked_by_user"
  | "revoked_by_admin"
  | "user_disabled"
  | "password_changed";

// lastSeenAt is written at most this often, so browsing does not write on every request.
const TOUCH_INTERVAL_MS = 60_000;

export async function createSession(userId: string, client: RequestContext) {
  const hours = readConfig().GATEHOUSE_SESSION_HOURS;
  return db().session.create({
    data: {
      userId,
      expiresAt: new Date(Date.now() + hours * 3_600_000),
      ipAddress: client.ip,
      userAgent: client.userAgent,
    },
  });
}

/** The session with its user, if it is still valid: not ended, not expired, user not disabled. */
export async function findActiveSession(sessionId: string, now = new Date()) {
  const session = await db().session.findUnique({
    where: { id: sessionId },
    include: { user: { select: { id: true, email: true, name: true, roles: true, disabledAt: true } } },
  });
  if (!session || session.endedAt || session.expiresAt <= now || session.user.disabledAt) return null;
  if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
    await db().session.update({ where: { id: sessionId }, data: { lastSeenAt: now } });
  }
  return session;
}

export function listActiveSessions(userId: string, now = new Date()) {
  return db().session.findMany({
    where: { userId, endedAt: null, expiresAt: { gt: now } },
    orderBy: { lastSeenAt: "desc" },
    select: { id: true, createdAt: true, lastSeenAt: true, expiresAt: true, ipAddress: true, userAgent: true },
  });
}

/** Ends one of a user's sessions. Scoped by userId so nobody can end another user's session by id. */
export async function endSession(userId: string, sessionId: string, reason: SessionEndReason, ctx: AuditContext): Promise<boolean> {
  const { count } = await db().session.updateMany({
    where: { id: sessionId, userId, endedAt: null },
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
export async function endAllSessions(userId: string, reason: SessionEndReason, ctx: AuditContext, keepSessionId?: string): Promise<number> {
  const { count } = await db().session.updateMany({
    where: { userId, endedAt: null, ...(keepSessionId ? { id: { not: keepSessionId } } : {}) },
    data: { endedAt: new Date(), endReason: reason },
  });
  if (count > 0) {
    await audit(ctx, {
      type: "session", action: "session.revoke_all", outcome: "success",
      resource: { type: "user", id: userId }, metadata: { reason, sessionsEnded: count, kept: keepSessionId ?? null },
    });
  }
  return count;
}
