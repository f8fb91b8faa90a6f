// What an audit event is. Pure types and validation: no database, no React.
import { z } from "zod";

export const AUDIT_TYPES = [
  "authentication", "mfa", "token", "consent", "session", "policy", "admin", "security", "incident", "compliance", "export",
] as const;
export const AUDIT_OUTCOMES = ["success", "failure", "blocked", "requires_approval"] as const;
export const ACTOR_TYPES = ["user", "client", "system"] as const;

export type AuditType = (typeof AUDIT_TYPES)[number];
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

// PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate would become U+FFFD on its way to
// the database, after the event was hashed: both are replaced first, so an odd string neither
// loses an event nor breaks the chain.
const storable = (s: string) => s.replaceAll("\0", "\uFFFD").toWellFormed();
const text = (max: number) => z.string().max(max).transform(storable);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
const MAX_JSON_DEPTH = 32;

/** The value as storable JSON (see storable), or undefined if it is not JSON. One walk: metadata rides on every event. */
function storableJson(value: unknown, depth = 0): JsonValue | undefined {
  if (typeof value === "string") return storable(value);
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "boolean" || value === null) return value;
  if (typeof value !== "object" || depth >= MAX_JSON_DEPTH) return undefined;
  if (Array.isArray(value)) {
    const items: JsonValue[] = [];
    for (const item of value) {
      const clean = storableJson(item, depth + 1);
      if (clean === undefined) return undefined;
      items.push(clean);
    }
    return items;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  const members: { [key: string]: JsonValue } = {};
  for (const [key, member] of Object.entries(value)) {
    const clean = storableJson(member, depth + 1);
    if (clean === undefined) return undefined;
    // defineProperty: a "__proto__" key is data here, not the object's prototype.
    Object.defineProperty(members, storable(key), { value: clean, enumerable: true, writable: true, configurable: true });
  }
  return members;
}

const jsonObject = z.custom<{ [key: string]: JsonValue }>().transform((value, ctx) => {
  const clean = value !== null && typeof value === "object" && !Array.isArray(value) ? storableJson(value) : undefined;
  if (clean === undefined) {
    ctx.addIssue({ code: "custom", message: `expected a JSON object (plain values, at most ${MAX_JSON_DEPTH} levels deep)` });
    return z.NEVER;
  }
  return clean as { [key: string]: JsonValue };
});

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
  metadata: jsonObject.optional(),
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
