import { sign } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { exportAuditEvents, findExportManifest, recordAuditEvent, recordSigningKeyRotation, verifyChain, auditFiltersSchema } from "@/lib/audit";
import { manifestSigningInput, verifyExport, type ExportManifest } from "@/lib/audit/manifest";
import { CHECKPOINT_EVERY, checkpointStatement } from "@/lib/audit/store";
import { keyRing, loadKeyRing, parseSigningKey, rotateSigningKeyEnv } from "@/lib/crypto";
import { GET as publicKeyRoute } from "@/app/api/v1/audit/public-key/route";
import { resetDatabase } from "../support/db";

beforeEach(resetDatabase);

const original = { key: process.env.GATEHOUSE_SIGNING_KEY, previous: process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS };
afterEach(() => {
  process.env.GATEHOUSE_SIGNING_KEY = original.key;
  if (original.previous === undefined) delete process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS;
  else process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS = original.previous;
  loadKeyRing();
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

    expect(await verifyChain()).toMatchObject({ ok: true, checkpointsChecked: 2 });
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
    const result = await verifyChain();
    expect(result).toMatchObject({ ok: false, firstBadSeq: String(CHECKPOINT_EVERY) });
    expect(result.problem).toContain(oldId);
    expect(result.problem).toContain("GATEHOUSE_SIGNING_PREVIOUS_KEYS");
  });

  describe("a retired key is trusted only for its own period", () => {
    /** Someone holding the retired key's private half (it leaked) signs what they like with it. */
    const signWith = (privateKeyEnv: string, text: string) => sign(null, Buffer.from(text), parseSigningKey(privateKeyEnv).privateKey).toString("base64url");

    async function rotatedChain() {
      const leaked = process.env.GATEHOUSE_SIGNING_KEY!;
      await writeEvents(CHECKPOINT_EVERY + 5);
      const before = await exportAll();
      const { oldId, newId } = rotate();
      await recordSigningKeyRotation();
      const rotatedAt = (await db().auditCheckpoint.findFirstOrThrow({ where: { reason: "key_rotation" } })).seq;
      await writeEvents(10);
      return { leaked, before, oldId, newId, rotatedAt };
    }

    it("a checkpoint the retired key signs after its replacement fails at that sequence number; the legitimate history verifies", async () => {
      const { leaked, oldId, newId, rotatedAt } = await rotatedChain();
      expect(await verifyChain()).toMatchObject({ ok: true, checkpointsChecked: 2 });

      // A purge anchor after the rotation, signed with the leaked key over a real event's hash:
      // everything but the key's period holds.
      const target = await db().auditEvent.findFirstOrThrow({ where: { seq: rotatedAt + BigInt(5) } });
      await db().auditCheckpoint.create({
        data: { seq: target.seq, hash: target.hash, reason: "purge", keyId: oldId, signature: signWith(leaked, checkpointStatement(target.seq, target.hash, "purge")) },
      });
      const result = await verifyChain();
      expect(result).toMatchObject({ ok: false, firstBadSeq: target.seq.toString() });
      expect(result.problem).toContain(`signed by key ${oldId}, which key ${newId} replaced at ${rotatedAt}`);
    });

    it("the retired key's checkpoints do not stand alone: until the current key has signed one, verification names the newest", async () => {
      await writeEvents(CHECKPOINT_EVERY + 5);
      const { oldId, newId } = rotate();
      const result = await verifyChain();
      expect(result).toMatchObject({ ok: false, firstBadSeq: String(CHECKPOINT_EVERY) });
      expect(result.problem).toContain(`retired key ${oldId} and the current key ${newId} has signed none`);
      await recordSigningKeyRotation();
      expect((await verifyChain()).ok).toBe(true);
    });

    it("the offline export check holds the retired key to the same period", async () => {
      const { leaked, before, oldId, rotatedAt } = await rotatedChain();
      const oldPem = await (await pemOf(oldId)).text();
      expect(oldPem).toContain(`Gatehouse-Audit-Key-Retired-Before-Seq: ${rotatedAt}`);
      expect(verifyExport(before.file, before.manifest, oldPem)).toEqual({ ok: true, problems: [] });

      // An export reaching past the rotation, its manifest signed with the leaked key.
      const after = await exportAll();
      const forged: ExportManifest = { ...after.manifest, keyId: oldId, signature: "" };
      forged.signature = signWith(leaked, manifestSigningInput(forged));
      const check = verifyExport(after.file, forged, oldPem);
      expect(check.ok).toBe(false);
      expect(check.problems).toEqual([`manifest was signed by key ${oldId}, which was replaced at sequence ${rotatedAt}, but the export reaches event ${after.manifest.last!.seq}`]);
      // The current key's PEM carries no such note.
      expect(await (await pemOf()).text()).not.toContain("Retired-Before");
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
