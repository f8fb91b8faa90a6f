import "server-only";
import { readConfig } from "../config";
import { db } from "../db/client";
import { keyRing, trustedSigningKey } from "../crypto";
import { SYSTEM_ACTOR } from "./events";
import { validUntilNote } from "./manifest";
import { recordAuditEvent } from "./record";
import { insertCheckpoint } from "./store";

/** The event a start with a new signing key records (verify.ts dates the old key's retirement by it). */
export const KEY_ROTATION_ACTION = "audit.signing_key.rotate";

/** The key a successful rotation event's metadata names as the one rotated to, if it names one. */
export function rotatedKeyId(metadata: unknown): string | null {
  const keyId = (metadata as { keyId?: unknown } | null)?.keyId;
  return typeof keyId === "string" ? keyId : null;
}

/**
 * Run at start: when GATEHOUSE_SIGNING_KEY has changed since the newest checkpoint was signed,
 * records the rotation and signs a checkpoint at that event with the new key, which through the
 * hash chain vouches for every event before it. Once per key: instances still on the old key
 * during a restart keep signing with it, and that is not a new rotation. A previous key that is
 * not among GATEHOUSE_SIGNING_PREVIOUS_KEYS is not anchored over: the rotation is recorded as
 * failed and said loudly, since the chain cannot verify until the key is listed.
 */
export async function recordSigningKeyRotation(): Promise<{ previousKeyId: string; keyId: string; ok: boolean } | null> {
  const { id: keyId } = keyRing().signing;
  const newest = await db().auditCheckpoint.findFirst({ orderBy: { seq: "desc" }, select: { keyId: true } });
  if (!newest || newest.keyId === keyId) return null;
  if (await db().auditCheckpoint.count({ where: { keyId, reason: "key_rotation" } })) return null;
  const rotation = { previousKeyId: newest.keyId, keyId };
  if (!trustedSigningKey(newest.keyId)) {
    console.error(`Audit signing key changed, but the previous key ${newest.keyId} is not listed in GATEHOUSE_SIGNING_PREVIOUS_KEYS: the audit chain will not verify until it is (npm run keys:rotate-signing keeps it).`);
    await recordAuditEvent({ type: "security", action: KEY_ROTATION_ACTION, outcome: "failure", actor: SYSTEM_ACTOR, metadata: { ...rotation, problem: "previous key not listed" } });
    return { ...rotation, ok: false };
  }
  const event = await recordAuditEvent({ type: "security", action: KEY_ROTATION_ACTION, outcome: "success", actor: SYSTEM_ACTOR, metadata: rotation });
  await insertCheckpoint((text, values) => db().$executeRawUnsafe(text, ...values), BigInt(event.seq), event.hash, "key_rotation");
  return { ...rotation, ok: true };
}

/** The ids of the keys whose signatures verify: the one signing now, and the retired ones, newest first. */
export function auditSigningKeyIds(): { current: string; retired: string[] } {
  const signing = keyRing().signing;
  return { current: signing.id, retired: signing.retired.map(({ id }) => id) };
}

/** The same ids in the order keys took over, newest (current) first: what key-periods.ts judges by. */
export function signingKeyOrder(): string[] {
  const { current, retired } = auditSigningKeyIds();
  return [current, ...retired];
}

/** How long after its retirement a key still vouches for checkpoints (key-periods.ts): the rolling restart's allowance. */
export function signingKeyOverlapMs(): number {
  return readConfig().GATEHOUSE_AUDIT_KEY_OVERLAP_MINUTES * 60_000;
}

/**
 * Until when a retired key vouches for events, by the rule key-periods.ts applies to the chain: it
 * is retired at the first checkpoint a newer key signed or at the chain's own record of a rotation
 * to a newer key, whichever came first (so swapping the new key's first checkpoints for the
 * leaked key's cannot move it later), plus the overlap. A checkpoint whose event was purged is
 * dated by when its row was written (not chained, but the event that was is gone: the first
 * remaining event, which the chain verifier must make do with, can be months later after a long
 * retention, and an export needs no such allowance). Null for the current key and one nothing has
 * replaced yet.
 */
async function retiredKeyValidUntil(keyId: string): Promise<Date | null> {
  const order = signingKeyOrder();
  const rank = order.indexOf(keyId);
  if (rank <= 0) return null;
  const newer = order.slice(0, rank);
  const [checkpoint, rotations] = await Promise.all([
    db().auditCheckpoint.findFirst({ where: { keyId: { in: newer } }, orderBy: { seq: "asc" }, select: { seq: true, at: true } }),
    // Rotations are a handful in a chain's life: read them all, and match the key id here.
    db().auditEvent.findMany({ where: { action: KEY_ROTATION_ACTION, outcome: "success" }, orderBy: { seq: "asc" }, select: { at: true, metadata: true } }),
  ]);
  const checkpointEvent = checkpoint ? await db().auditEvent.findUnique({ where: { seq: checkpoint.seq }, select: { at: true } }) : null;
  const rotation = rotations.find((event) => newer.includes(rotatedKeyId(event.metadata) ?? ""));
  const times = [checkpoint ? (checkpointEvent ?? checkpoint).at : null, rotation?.at ?? null].filter((at) => at !== null).map((at) => at.getTime());
  return times.length ? new Date(Math.min(...times) + signingKeyOverlapMs()) : null;
}

/**
 * A trusted key's public half as PEM (the current key without an id), for offline verification. A
 * retired key's PEM says until when it vouches for events (manifest.ts validUntilNote), so the
 * offline verifier holds exports to the same periods as the chain's checkpoints.
 */
export async function auditPublicKey(keyId?: string): Promise<{ id: string; pem: string } | null> {
  const key = keyId === undefined ? keyRing().signing : trustedSigningKey(keyId);
  if (!key) return null;
  const pem = key.publicKey.export({ format: "pem", type: "spki" }).toString();
  const validUntil = await retiredKeyValidUntil(key.id);
  return { id: key.id, pem: validUntil === null ? pem : validUntilNote(validUntil) + pem };
}
