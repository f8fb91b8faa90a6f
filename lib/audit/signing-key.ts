import "server-only";
import { db } from "../db/client";
import { keyRing, trustedSigningKey } from "../crypto";
import { SYSTEM_ACTOR } from "./events";
import { recordAuditEvent } from "./record";
import { insertCheckpoint } from "./store";

/**
 * Run at start: when GATEHOUSE_SIGNING_KEY has changed since the newest checkpoint was signed,
 * records the rotation and signs a checkpoint at that event with the new key. Through the hash
 * chain, that one signature vouches for every event before it, so the history stays anchored by
 * the key in use even once the retired key is gone. Two instances starting together may both
 * record it; the second is harmless.
 */
export async function recordSigningKeyRotation(): Promise<{ previousKeyId: string; keyId: string } | null> {
  const { id: keyId } = keyRing().signing;
  const newest = await db().auditCheckpoint.findFirst({ orderBy: { seq: "desc" }, select: { keyId: true } });
  if (!newest || newest.keyId === keyId) return null;
  const rotation = { previousKeyId: newest.keyId, keyId };
  const event = await recordAuditEvent({ type: "security", action: "audit.signing_key.rotate", outcome: "success", actor: SYSTEM_ACTOR, metadata: rotation });
  await insertCheckpoint((text, values) => db().$executeRawUnsafe(text, ...values), BigInt(event.seq), event.hash, "key_rotation");
  return rotation;
}

/** The keys whose signatures verify (the one signing now first, then retired ones, newest first). */
export function auditSigningKeyIds(): { id: string; current: boolean }[] {
  const signing = keyRing().signing;
  return [{ id: signing.id, current: true }, ...signing.retired.map(({ id }) => ({ id, current: false }))];
}

/** A trusted key's public half as PEM (the current key without an id), for offline verification. */
export function auditPublicKey(keyId?: string): { id: string; pem: string } | null {
  const key = keyId === undefined ? keyRing().signing : trustedSigningKey(keyId);
  return key ? { id: key.id, pem: key.publicKey.export({ format: "pem", type: "spki" }).toString() } : null;
}
