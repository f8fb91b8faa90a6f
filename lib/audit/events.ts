// What an audit event is. Pure types and validation: no database, no React.
import { z } from "zod";

export const AUDIT_TYPES = [
  "authentication", "mfa", "token", "consent", "session", "policy", "admin", "security", "incident", "compliance", "export",
] as const;
export const AUDIT_OUTCOMES = ["success", "failure", "blocked", "requires_approval"] as const;
export const ACTOR_TYPES = ["user", "client", "system"] as const;

export type AuditType = (typeof AUDIT_TYPES)[number];
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

// PostgreSQL text and jsonb cannot hold NUL; a stray one must not lose an event.
const withoutNul = (s: string) => s.replaceAll("\0", "\uFFFD");
const text = (max: number) => z.string().max(max).transform(withoutNul);

function jsonWithoutNul(value: unknown): unknown {
  if (typeof value === "string") return withoutNul(value);
  if (Array.isArray(value)) return value.map(jsonWithoutNul);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [withoutNul(k), jsonWithoutNul(v)]));
  return value;
}
const jsonObject = z.record(z.string(), z.json()).transform((o) => jsonWithoutNul(o) as Record<string, z.core.util.JSONType>);

export const auditEventSchema = z.object({
  type: z.enum(AUDIT_TYPES),
  action: z.string().regex(/^[a-z][a-z0-9_.]{1,63}$/, "action names look like user.roles.update"),
  outcome: z.enum(AUDIT_OUTCOMES),
  actor: z.object({ type: z.enum(ACTOR_TYPES), id: text(200).nullish(), label: text(320).nullish() }),
  resource: z.object({ type: text(64), id: text(200).nullish() }).nullish(),
  client: z
    .object({
      ip: text(64).nullish(),
      userAgent: text(512).nullish(),
      deviceId: text(200).nullish(),
      location: text(200).nullish(),
    })
    .nullish(),
  riskScore: z.number().min(0).max(1).nullish(),
  policyDecisions: z.array(jsonObject).max(50).nullish(),
  metadata: jsonObject.default({}),
});

export type AuditEventInput = z.input<typeof auditEventSchema>;
export type AuditActor = AuditEventInput["actor"];

export const SYSTEM_ACTOR: AuditActor = { type: "system", id: null, label: "gatehouse" };

/** The stored, chained form of an event: exactly what its hash covers. */
export type ChainedEvent = {
  seq: string;
  id: string;
  at: string; // ISO 8601, UTC, milliseconds
  type: string;
  action: string;
  outcome: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  resourceType: string | null;
  resourceId: string | null;
  ipCipher: string | null;
  ipHash: string | null;
  userAgentCipher: string | null;
  deviceId: string | null;
  location: string | null;
  riskScore: string | null; // three decimals, e.g. "0.730"
  policyDecisions: unknown;
  metadata: Record<string, unknown>;
  prevHash: string;
};

export type StoredEvent = ChainedEvent & { hash: string };
