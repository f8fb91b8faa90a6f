import { createHash, sign } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { auditPublicKey, exportAuditEvents, findExportManifest, purgeAuditEvents, recordAuditEvent, recordSigningKeyRotation, auditFiltersSchema } from "@/lib/audit";
import { manifestSigningInput, verifyExport, type ExportManifest } from "@/lib/audit/manifest";
import { eventTextHash } from "@/lib/audit/hash";
import { CHECKPOINT_EVERY, checkpointStatement, insertCheckpoint, readRange } from "@/lib/audit/store";
import { keyRing, loadKeyRing, parseSigningKey, rotateSigningKeyEnv } from "@/lib/crypto";
import { GET as publicKeyRoute } from "@/app/api/v1/audit/public-key/route";
import { resetDatabase } from "../support/db";
import { verifyEveryWay } from "../support/verify";

beforeEach(resetDatabase);

type SigningEnv = { key: string | undefined; previous: string | undefined };
const signingEnv = (): SigningEnv => ({ key: process.env.GATEHOUSE_SIGNING_KEY, previous: process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS });
function loadSigningEnv({ key, previous }: SigningEnv) {
  process.env.GATEHOUSE_SIGNING_KEY = key;
  if (previous === undefined) delete process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS;
  else process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS = previous;
  loadKeyRing();
}

const original = signingEnv();
afterEach(() => {
  loadSigningEnv(original);
  delete process.env.GATEHOUSE_AUDIT_KEY_OVERLAP_MINUTES;
});

/** What an operator does: the rotated variables in the environment, then a restart. */
function rotate(): { oldId: string; newId: string } {
  const oldId = keyRing().signing.id;
  Object.assign(process.env, rotateSigningKeyEnv(process.env.GATEHOUSE_SIGNING_KEY!, process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS));
  return { oldId, newId: loadKeyRing().signing.id };
}

async function writeEvents(count: number) {
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < count; i += 8) {
        await recordAuditEvent({ type: "admin", action: "test.event", outcome: "success", actor: { type: "user", id: `u-${w}` }, metadata: { i } });
      }
    }),
  );
}

async function exportAll(): Promise<{ file: Buffer; manifest: NonNullable<Awaited<ReturnType<typeof findExportManifest>>> }> {
  const chunks: Buffer[] = [];
  const actor = { type: "user" as const, id: "00000000-0000-4000-8000-000000000001", label: "auditor@example.test" };
  const { id, stream } = await exportAuditEvents({ actor, filters: auditFiltersSchema.parse({}), format: "jsonl" });
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return { file: Buffer.concat(chunks), manifest: (await findExportManifest(id))! };
}

/** What an instance not yet restarted does meanwhile: the same work with the variables it started with. */
async function onInstanceWith<T>(env: SigningEnv, work: () => Promise<T>): Promise<T> {
  const upgraded = signingEnv();
  loadSigningEnv(env);
  try {
    return await work();
  } finally {
    loadSigningEnv(upgraded);
  }
}

/** Someone holding the retired key's private half (it leaked) signs what they like with it. */
const signWith = (privateKeyEnv: string, text: string) => sign(null, Buffer.from(text), parseSigningKey(privateKeyEnv).privateKey).toString("base64url");

/** What an attacker with superuser rights can do: switch the triggers off for one statement. */
async function asSuperuserBypassingTriggers(sql: string) {
  await db().$transaction([db().$executeRawUnsafe("SET LOCAL session_replication_role = replica"), db().$executeRawUnsafe(sql)]);
}

const MINUTE = 60_000;

/**
 * The injected clock: the events after `seq` (none of them under a checkpoint yet) as if written
 * from `at` on, a millisecond apart, chained as appendBatch would have chained them then.
 */
async function writtenFrom(seq: bigint, at: Date) {
  const rows = await readRange(seq, 10_000);
  let prev = rows[0]!.prevHash;
  const updates = rows.map((row, i) => {
    const { hash: _old, ...fields } = row;
    const redated = { ...fields, at: new Date(at.getTime() + i).toISOString(), prevHash: prev };
    prev = eventTextHash(redated);
    return `UPDATE audit_events SET at = '${redated.at}', prev_hash = '${redated.prevHash}', hash = '${prev}' WHERE seq = ${row.seq};`;
  });
  await asSuperuserBypassingTriggers(`DO $$ BEGIN ${updates.join(" ")} UPDATE audit_chain_head SET hash = '${prev}'; END $$`);
}

const pemOf = async (keyId?: string) => publicKeyRoute(new Request(`http://localhost/api/v1/audit/public-key${keyId ? `?keyId=${keyId}` : ""}`));

describe("rotating the audit signing key", () => {
  it("keeps the chain and older exports verifiable, records the rotation and anchors it with the new key", async () => {
    await writeEvents(CHECKPOINT_EVERY + 5);
    const before = await exportAll();
    const { oldId, newId } = rotate();
    expect(newId).not.toBe(oldId);

    const rotation = await recordSigningKeyRotation();
    expect(rotation).toEqual({ previousKeyId: oldId, keyId: newId, ok: true });
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "audit.signing_key.rotate" } });
    const anchor = await db().auditCheckpoint.findUniqueOrThrow({ where: { seq: event.seq } });
    expect(anchor).toMatchObject({ reason: "key_rotation", keyId: newId });
    // Once anchored, the next start has nothing to record.
    expect(await recordSigningKeyRotation()).toBeNull();

    expect(await verifyEveryWay()).toMatchObject({ ok: true, checkpointsChecked: 2 });
    // An export made before the rotation verifies with the retired key, served by its id.
    const oldKey = await pemOf(oldId);
    expect(oldKey.status).toBe(200);
    expect(oldKey.headers.get("X-Key-Id")).toBe(oldId);
    const oldPem = await oldKey.text();
    expect(verifyExport(before.file, before.manifest, oldPem)).toEqual({ ok: true, problems: [] });
    // A new export is signed by the new key, which the route serves by default.
    const after = await exportAll();
    expect(after.manifest.keyId).toBe(newId);
    const current = await pemOf();
    expect(current.headers.get("X-Key-Id")).toBe(newId);
    expect(verifyExport(after.file, after.manifest, await current.text()).ok).toBe(true);
    expect(verifyExport(after.file, after.manifest, oldPem).ok).toBe(false);

    // An instance still on the old key during a rolling restart signs another checkpoint with it:
    // that is not a new rotation to record.
    await db().auditCheckpoint.create({ data: { seq: event.seq + BigInt(1), hash: "placeholder", reason: "periodic", keyId: oldId, signature: "placeholder" } });
    expect(await recordSigningKeyRotation()).toBeNull();
    expect(await db().auditEvent.count({ where: { action: "audit.signing_key.rotate" } })).toBe(1);
  });

  it("names the checkpoint and its key when the retired key is not listed, and does not anchor over it", async () => {
    await writeEvents(CHECKPOINT_EVERY + 5);
    const { oldId, newId } = rotate();
    delete process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS;
    loadKeyRing();
    expect(await recordSigningKeyRotation()).toEqual({ previousKeyId: oldId, keyId: newId, ok: false });
    expect(await db().auditEvent.count({ where: { action: "audit.signing_key.rotate", outcome: "failure" } })).toBe(1);
    expect(await db().auditCheckpoint.count({ where: { reason: "key_rotation" } })).toBe(0);
    const result = await verifyEveryWay();
    expect(result).toMatchObject({ ok: false, firstBadSeq: String(CHECKPOINT_EVERY) });
    expect(result.problem).toContain(oldId);
    expect(result.problem).toContain("GATEHOUSE_SIGNING_PREVIOUS_KEYS");
  });

  describe("a retired key is trusted only for its own period, plus the overlap of a rolling restart", () => {
    async function rotatedChain() {
      const oldEnv = signingEnv();
      await writeEvents(CHECKPOINT_EVERY + 5);
      const before = await exportAll();
      const { oldId, newId } = rotate();
      await recordSigningKeyRotation();
      const rotatedAt = (await db().auditCheckpoint.findFirstOrThrow({ where: { reason: "key_rotation" } })).seq;
      const retiredAt = (await db().auditEvent.findUniqueOrThrow({ where: { seq: rotatedAt } })).at;
      await writeEvents(10);
      return { oldEnv, leaked: oldEnv.key!, before, oldId, newId, rotatedAt, retiredAt };
    }

    it("a rolling rotation verifies: instances still on the retired key keep signing checkpoints among the new key's within the overlap", async () => {
      const { oldEnv, oldId, newId } = await rotatedChain();
      // Whichever instance's batch crosses each thousand signs there: old, upgraded, old.
      await onInstanceWith(oldEnv, () => writeEvents(CHECKPOINT_EVERY));
      await writeEvents(CHECKPOINT_EVERY);
      await onInstanceWith(oldEnv, () => writeEvents(CHECKPOINT_EVERY));
      const signers = await db().auditCheckpoint.findMany({ orderBy: { seq: "asc" }, select: { keyId: true, reason: true } });
      expect(signers).toEqual([
        { keyId: oldId, reason: "periodic" }, { keyId: newId, reason: "key_rotation" }, { keyId: oldId, reason: "periodic" },
        { keyId: newId, reason: "periodic" }, { keyId: oldId, reason: "periodic" },
      ]);
      expect(await verifyEveryWay()).toMatchObject({ ok: true, checkpointsChecked: 5 });
    });

    it("a checkpoint the retired key signs after the overlap fails at its sequence number, naming the key, its successor and the overlap's end", async () => {
      const { oldEnv, oldId, newId, rotatedAt, retiredAt } = await rotatedChain();
      await writtenFrom(rotatedAt, new Date(retiredAt.getTime() + 61 * MINUTE));
      expect(await verifyEveryWay()).toMatchObject({ ok: true });

      // An instance never restarted signs an event written 61 minutes after the rotation.
      const late = await db().auditEvent.findUniqueOrThrow({ where: { seq: rotatedAt + BigInt(5) } });
      await onInstanceWith(oldEnv, () => insertCheckpoint((text, values) => db().$executeRawUnsafe(text, ...values), late.seq, late.hash, "periodic"));
      const result = await verifyEveryWay();
      expect(result).toMatchObject({ ok: false, firstBadSeq: late.seq.toString() });
      const overlapEnd = new Date(retiredAt.getTime() + 60 * MINUTE).toISOString();
      expect(result.problem).toBe(
        `checkpoint at ${late.seq} is signed by key ${oldId}, which key ${newId} replaced at ${rotatedAt} (${retiredAt.toISOString()}): the overlap for instances still on the retired key ended at ${overlapEnd}, and the chain's time at this checkpoint is ${late.at.toISOString()}`,
      );

      // A longer configured overlap covers it.
      process.env.GATEHOUSE_AUDIT_KEY_OVERLAP_MINUTES = "90";
      expect(await verifyEveryWay()).toMatchObject({ ok: true, checkpointsChecked: 3 });
    });

    it("events dated back do not reopen the overlap: a checkpoint is dated by the latest time up to its event", async () => {
      const { leaked, oldId, rotatedAt, retiredAt } = await rotatedChain();
      await writtenFrom(rotatedAt, new Date(retiredAt.getTime() + 61 * MINUTE));
      // Whoever rewrites the unsigned events after the newest checkpoint dates them back into the overlap.
      await writtenFrom(rotatedAt + BigInt(4), new Date(retiredAt.getTime() + MINUTE));
      const target = await db().auditEvent.findUniqueOrThrow({ where: { seq: rotatedAt + BigInt(5) } });
      await db().auditCheckpoint.create({
        data: { seq: target.seq, hash: target.hash, reason: "periodic", keyId: oldId, signature: signWith(leaked, checkpointStatement(target.seq, target.hash, "periodic")) },
      });
      const result = await verifyEveryWay();
      expect(result).toMatchObject({ ok: false, firstBadSeq: target.seq.toString() });
      expect(result.problem).toContain(`the chain's time at this checkpoint is ${new Date(retiredAt.getTime() + 61 * MINUTE + 3).toISOString()}`);
    });

    it("the retirement cannot be moved later by swapping the new key's first checkpoints for the leaked key's: the rotation event dates it", async () => {
      const { leaked, oldId, rotatedAt, retiredAt } = await rotatedChain();
      // The legitimate history: the new key signs the rotation and, an hour and more later, the next thousand.
      await writtenFrom(rotatedAt, new Date(retiredAt.getTime() + 61 * MINUTE));
      await writeEvents(CHECKPOINT_EVERY);
      expect(await verifyEveryWay()).toMatchObject({ ok: true });

      // Someone with the database and the leaked key replaces the rotation's checkpoint with the old
      // key's, which would make the new key's periodic checkpoint the "first" one, then signs a
      // recent event with the old key as if within an overlap counted from there.
      await asSuperuserBypassingTriggers(`DELETE FROM audit_checkpoints WHERE seq = ${rotatedAt}`);
      const rotation = await db().auditEvent.findUniqueOrThrow({ where: { seq: rotatedAt } });
      const newest = await db().auditCheckpoint.findFirstOrThrow({ orderBy: { seq: "desc" } });
      const recent = await db().auditEvent.findFirstOrThrow({ where: { seq: { gt: newest.seq } }, orderBy: { seq: "asc" } });
      for (const target of [rotation, recent]) {
        await db().auditCheckpoint.create({
          data: { seq: target.seq, hash: target.hash, reason: "periodic", keyId: oldId, signature: signWith(leaked, checkpointStatement(target.seq, target.hash, "periodic")) },
        });
      }
      const result = await verifyEveryWay();
      expect(result).toMatchObject({ ok: false, firstBadSeq: recent.seq.toString() });
      expect(result.problem).toContain(`which key ${keyRing().signing.id} replaced at ${rotatedAt} (${retiredAt.toISOString()})`);
      // The retired key's published PEM, which offline export checks go by, says the same period.
      const published = await auditPublicKey(oldId);
      expect(published?.pem).toContain(`Gatehouse-Audit-Key-Valid-Until: ${new Date(retiredAt.getTime() + 60 * MINUTE).toISOString()}`);
    });

    it("a retention purge by the new key, anchored among the retired key's checkpoints, does not retire that key early", async () => {
      // The retired key signed at 1,000 and 2,000; the events in between were written three hours ago.
      await writeEvents(CHECKPOINT_EVERY + 200);
      const written = new Date(Date.now() - 180 * MINUTE);
      await writtenFrom((await db().auditCheckpoint.findFirstOrThrow()).seq, written);
      await writeEvents(CHECKPOINT_EVERY);
      expect(await db().auditCheckpoint.count()).toBe(2);
      rotate();
      await recordSigningKeyRotation();
      expect(await verifyEveryWay()).toMatchObject({ ok: true });
      // The new key signs the purge's anchor at an event from three hours ago, before the old key's second checkpoint.
      const purged = await purgeAuditEvents(new Date(written.getTime() + 100));
      expect(Number(purged.anchorSeq)).toBeLessThan(2 * CHECKPOINT_EVERY);
      expect(await verifyEveryWay()).toMatchObject({ ok: true });
    });

    it("a purge the leaked retired key anchors after its replacement fails at the anchor, however soon after", async () => {
      const { leaked, oldId, newId, rotatedAt } = await rotatedChain();
      const target = await db().auditEvent.findFirstOrThrow({ where: { seq: rotatedAt + BigInt(5) } });
      await db().auditCheckpoint.create({
        data: { seq: target.seq, hash: target.hash, reason: "purge", keyId: oldId, signature: signWith(leaked, checkpointStatement(target.seq, target.hash, "purge")) },
      });
      await asSuperuserBypassingTriggers(`DELETE FROM audit_events WHERE seq <= ${target.seq}`);
      const result = await verifyEveryWay();
      expect(result).toMatchObject({ ok: false, firstBadSeq: target.seq.toString() });
      expect(result.problem).toContain(`purge checkpoint at ${target.seq} that the remaining events link to is signed by key ${oldId}, which key ${newId} replaced at ${rotatedAt}`);
    });

    it("the retired key's checkpoints do not stand alone: until the current key has signed one, verification names the newest", async () => {
      await writeEvents(CHECKPOINT_EVERY + 5);
      const { oldId, newId } = rotate();
      const result = await verifyEveryWay();
      expect(result).toMatchObject({ ok: false, firstBadSeq: String(CHECKPOINT_EVERY) });
      expect(result.problem).toContain(`retired key ${oldId} and the current key ${newId} has signed none`);
      await recordSigningKeyRotation();
      expect((await verifyEveryWay()).ok).toBe(true);
    });

    it("once the rotation's event is purged, the retired key's period still ends where its replacement's first checkpoint was written", async () => {
      const { oldId, rotatedAt } = await rotatedChain();
      // Events after the rotation, written ten days later; then a purge removes everything up to the rotation.
      await writtenFrom(rotatedAt, new Date(Date.now() + 10 * 24 * 60 * MINUTE));
      await asSuperuserBypassingTriggers(`DELETE FROM audit_events WHERE seq <= ${rotatedAt}`);
      const written = (await db().auditCheckpoint.findFirstOrThrow({ where: { seq: rotatedAt } })).at;
      const validUntil = new Date(written.getTime() + 60 * MINUTE).toISOString();
      expect(await (await pemOf(oldId)).text()).toContain(`Gatehouse-Audit-Key-Valid-Until: ${validUntil}`);
    });

    it("the offline export check holds the retired key to the same period", async () => {
      const { leaked, before, oldId, rotatedAt, retiredAt } = await rotatedChain();
      const oldPem = await (await pemOf(oldId)).text();
      const validUntil = new Date(retiredAt.getTime() + 60 * MINUTE).toISOString();
      expect(oldPem).toContain(`Gatehouse-Audit-Key-Valid-Until: ${validUntil}`);
      expect(verifyExport(before.file, before.manifest, oldPem)).toEqual({ ok: true, problems: [] });

      /** An export of everything, its manifest signed with the retired key (an instance still on it, or the leak). */
      const exportSignedByOldKey = async () => {
        const { file, manifest } = await exportAll();
        const signed: ExportManifest = { ...manifest, keyId: oldId, signature: "" };
        signed.signature = signWith(leaked, manifestSigningInput(signed));
        return { file, manifest: signed };
      };
      const duringOverlap = await exportSignedByOldKey();
      expect(verifyExport(duringOverlap.file, duringOverlap.manifest, oldPem)).toEqual({ ok: true, problems: [] });

      await writtenFrom(rotatedAt, new Date(retiredAt.getTime() + 61 * MINUTE));
      const afterOverlap = await exportSignedByOldKey();
      const firstLate = await db().auditEvent.findUniqueOrThrow({ where: { seq: rotatedAt + BigInt(1) } });
      expect(verifyExport(afterOverlap.file, afterOverlap.manifest, oldPem)).toEqual({
        ok: false,
        problems: [`manifest was signed by key ${oldId}, which vouches only for events up to ${validUntil} (its replacement's first checkpoint plus the overlap), but the export holds event ${firstLate.seq} from ${firstLate.at.toISOString()}`],
      });
      // Nor can the leaked key say that nothing happened after its period: an empty export made then.
      const madeLate = new Date(retiredAt.getTime() + 61 * MINUTE).toISOString();
      const nothing: ExportManifest = { ...afterOverlap.manifest, createdAt: madeLate, rowCount: 0, first: null, last: null, sha256: createHash("sha256").update("").digest("hex"), signature: "" };
      nothing.signature = signWith(leaked, manifestSigningInput(nothing));
      expect(verifyExport(Buffer.alloc(0), nothing, oldPem).problems).toEqual([`manifest was made at ${madeLate} and signed by key ${oldId}, which vouches only for events up to ${validUntil} (its replacement's first checkpoint plus the overlap)`]);
      // Nor hide late events in a file no parser reads (a spreadsheet still shows them) and call it empty.
      const unreadable = Buffer.from(`${afterOverlap.file.toString("utf8")}{not json\n`);
      const hidden: ExportManifest = { ...afterOverlap.manifest, rowCount: 0, first: null, last: null, sha256: createHash("sha256").update(unreadable).digest("hex"), signature: "" };
      hidden.signature = signWith(leaked, manifestSigningInput(hidden));
      const check = verifyExport(unreadable, hidden, oldPem);
      expect(check.ok).toBe(false);
      expect(check.problems[0]).toMatch(/^file is not readable as jsonl: /);
      // The current key's PEM carries no such note.
      expect(await (await pemOf()).text()).not.toContain("Valid-Until");
    });
  });

  it("answers 404 for a key id it does not trust or that is malformed", async () => {
    for (const keyId of ["0123456789abcdef", "../../etc/passwd", ""]) {
      const response = await publicKeyRoute(new Request(`http://localhost/api/v1/audit/public-key?keyId=${encodeURIComponent(keyId)}`));
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: "not_found" });
    }
  });

  it("records nothing on a new installation with no checkpoint yet", async () => {
    await writeEvents(3);
    expect(await recordSigningKeyRotation()).toBeNull();
  });
});
