import "server-only";
import { randomUUID } from "node:crypto";
import { blindIndex, encrypt } from "../crypto";
import type { SealedField } from "../crypto/reseal";
import { auditEventSchema, type AuditEventInput } from "./events";
import { canonicalJson } from "./hash";
import { MAX_BATCH_EVENTS, appendBatch, type RecordedEvent, type Unchained } from "./store";
import { scheduleTextIndexing } from "./text-index";

// Group commit: events recorded at the same moment (by any number of concurrent requests in
// this process) are chained and committed together in one transaction, so throughput does not
// stop at one commit per event. record() resolves only once its event is committed.

type ValidEvent = ReturnType<typeof auditEventSchema.parse>;
type Pending = { event: ValidEvent; resolve: (recorded: RecordedEvent) => void; reject: (error: unknown) => void };
const queue: Pending[] = [];
let flushing = false;

/** Writes one audit event, chained and committed; returns its place in the chain. */
export function recordAuditEvent(input: AuditEventInput): Promise<RecordedEvent> {
  let event: ValidEvent;
  try {
    // Validated now, so a malformed event fails its caller at once; sealed (encrypted, indexed,
    // serialised) by appendBatch, with the rest of its batch.
    event = auditEventSchema.parse(input);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    queue.push({ event, resolve, reject });
    // Flush on the next turn, not now: events recorded by requests running concurrently join
    // the same commit instead of the first one committing alone.
    if (!flushing) {
      flushing = true;
      setImmediate(() => void flush());
    }
  });
}

async function flush() {
  try {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH_EVENTS);
      try {
        const recorded = await appendBatch(batch.map((p) => p.event), seal);
        batch.forEach((p, i) => p.resolve(recorded[i]!));
        scheduleTextIndexing();
      } catch (error) {
        batch.forEach((p) => p.reject(error));
      }
    }
  } finally {
    flushing = false;
  }
}

/** Sensitive client fields are encrypted under these contexts; the IP also gets a blind index. */
export const SENSITIVE_CONTEXT = { ip: "audit.ip", userAgent: "audit.user_agent" } as const;
/** Where events' sensitive fields are sealed: hashed into the chain as ciphertext, so never sealed again (npm run keys:reseal reports them). */
export const AUDIT_SEALED: readonly SealedField[] = [
  { table: "audit_events", column: "ip_cipher", id: "seq", context: SENSITIVE_CONTEXT.ip },
  { table: "audit_events", column: "user_agent_cipher", id: "seq", context: SENSITIVE_CONTEXT.userAgent },
];

export function ipSearchHash(ip: string): string {
  return blindIndex(ip, SENSITIVE_CONTEXT.ip);
}

/** A valid event as chained and stored: sensitive fields encrypted, the IP's blind index, JSON as canonical text. */
function seal(e: ValidEvent): Unchained {
  const ip = e.client?.ip ?? null;
  const userAgent = e.client?.userAgent ?? null;
  return {
    id: randomUUID(),
    type: e.type,
    action: e.action,
    outcome: e.outcome,
    actorType: e.actor.type,
    actorId: e.actor.id ?? null,
    actorLabel: e.actor.label ?? null,
    resourceType: e.resource?.type ?? null,
    resourceId: e.resource?.id ?? null,
    ipCipher: ip ? encrypt(ip, SENSITIVE_CONTEXT.ip) : null,
    ipHash: ip ? ipSearchHash(ip) : null,
    userAgentCipher: userAgent ? encrypt(userAgent, SENSITIVE_CONTEXT.userAgent) : null,
    deviceId: e.client?.deviceId ?? null,
    location: e.client?.location ?? null,
    riskScore: e.riskScore == null ? null : e.riskScore.toFixed(3),
    // Serialised here, outside the chain lock, in the canonical form that is both stored and hashed.
    policyDecisions: e.policyDecisions ? canonicalJson(e.policyDecisions) : null,
    metadata: canonicalJson(e.metadata ?? {}),
  };
}
