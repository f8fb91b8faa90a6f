import "server-only";
import { SYSTEM_ACTOR, type AuditActor, type AuditEventInput } from "./events";
import { recordAuditEvent } from "./record";
import type { RequestContext } from "../http/request-context";

/**
 * Who did something and from where: every mutation in lib/auth takes one and audits with it.
 * `justification`: why a person did it (an admin's stated reason), recorded on every event the
 * change writes.
 */
export type AuditContext = { actor: AuditActor; client: (RequestContext & { deviceId?: string | null }) | null; justification?: string };

export const SYSTEM_CONTEXT: AuditContext = { actor: SYSTEM_ACTOR, client: null };

/** The acting person's user id, for "who did it" columns; null when the system acted. */
export const actingUserId = (ctx: AuditContext): string | null => (ctx.actor.type === "user" ? (ctx.actor.id ?? null) : null);

/** A person acting from this request; with a session's device, the browser is on every event too. */
export function userContext(user: { id: string; email: string; deviceId?: string | null }, client: RequestContext | null): AuditContext {
  return { actor: { type: "user", id: user.id, label: user.email }, client: client && { ...client, deviceId: user.deviceId ?? null } };
}

type EventFields = Omit<AuditEventInput, "actor" | "client">;

export function audit(ctx: AuditContext, event: EventFields) {
  const client = ctx.client ? { ip: ctx.client.ip, userAgent: ctx.client.userAgent, location: ctx.client.location ?? null, deviceId: ctx.client.deviceId ?? null } : null;
  const metadata = ctx.justification ? { ...event.metadata, justification: ctx.justification } : event.metadata;
  return recordAuditEvent({ ...event, metadata, actor: ctx.actor, client });
}
