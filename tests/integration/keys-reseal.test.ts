import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateSync } from "otplib";
import { db } from "@/lib/db/client";
import { audit } from "@/lib/audit";
import { decrypt, encrypt, loadKeyRing } from "@/lib/crypto";
import { generateKeyEnv } from "@/lib/crypto/keys";
import { checkTotpCode, startTotpEnrollment, TOTP_SECRETS } from "@/lib/mfa/totp";
import { ensureSigningKeys, providerJwks } from "@/lib/oidc/keys";
import { CHANNEL_SECRETS, createChannel, newChannelSchema, resolveChannel } from "@/lib/incidents/channels";
import { resealColumn, sealedBy } from "@/lib/crypto/reseal";
import { snapshotContent, SNAPSHOT_SECRETS } from "@/lib/incidents/forensics";
import { encryptionKeyUsage, resealSecrets } from "@/lib/sealed-columns";
import { resetDatabase } from "../support/db";
import { client, ctx, makeUser } from "../support/factories";

// Rotating the encryption key for good: after a new key goes first, every stored secret is sealed
// again under it, and the report says which key still seals what, so an old key can leave.

const originalKeys = process.env.GATEHOUSE_ENCRYPTION_KEYS!;
const useKeys = (keys: string) => {
  process.env.GATEHOUSE_ENCRYPTION_KEYS = keys;
  loadKeyRing();
};
const newKey = () => generateKeyEnv().GATEHOUSE_ENCRYPTION_KEYS;
const kid = (keys: string) => keys.split(":")[0]!;

beforeEach(resetDatabase);
afterEach(() => useKeys(originalKeys));

describe("npm run keys:reseal", () => {
  it("seals every secret again under the new key, which the domains then read with the old key gone; audit values keep theirs", async () => {
    const old = originalKeys;
    const user = await makeUser();
    const enrollment = await startTotpEnrollment(user);
    if ("error" in enrollment) throw new Error(enrollment.error);
    await ensureSigningKeys();
    const jwksBefore = (await providerJwks()).keys;
    const { secret: webhookSecret } = await createChannel(newChannelSchema.parse({ kind: "webhook", name: "soc", target: "https://hooks.example.test/gatehouse" }), ctx);
    const incident = await db().incident.create({ data: { type: "account_takeover", title: "Test", severity: "high", lastAlertAt: new Date() } });
    const snapshot = await db().forensicSnapshot.create({ data: { incidentId: incident.id, reason: "test", content: encrypt('{"sessions":[]}', SNAPSHOT_SECRETS.context), sha256: "x" } });
    // A legacy snapshot stored before sealing (plaintext JSON) is not a sealed value: left alone.
    await db().forensicSnapshot.create({ data: { incidentId: incident.id, reason: "legacy", content: '{"legacy":true}', sha256: "y" } });
    await audit({ actor: { type: "user", id: user.id, label: user.email }, client: client("198.51.100.9") }, { type: "authentication", action: "sign_in", outcome: "success" });

    const next = newKey();
    useKeys(`${next},${old}`);
    const before = await encryptionKeyUsage();
    expect(before.find((k) => k.keyId === kid(next))).toMatchObject({ current: true, secrets: 0 });
    const oldUsage = before.find((k) => k.keyId === kid(old))!;
    expect(oldUsage.secrets).toBeGreaterThanOrEqual(3);
    expect(oldUsage.audit).toBeGreaterThanOrEqual(2);

    const results = await resealSecrets({ actor: { type: "system", id: null, label: "cli" }, client: null });
    expect(results.every((r) => r.unreadable === 0)).toBe(true);
    expect(results.find((r) => r.column === "totp_factors.secret_cipher")).toMatchObject({ resealed: 1 });
    expect(results.find((r) => r.column === "oidc_signing_keys.private_jwk_cipher")!.resealed).toBe(jwksBefore.length);
    const after = await encryptionKeyUsage();
    expect(after.find((k) => k.keyId === kid(old))).toMatchObject({ secrets: 0, audit: oldUsage.audit });
    expect(after.find((k) => k.keyId === kid(next))!.secrets).toBe(oldUsage.secrets);
    // Again: nothing left to do.
    expect((await resealSecrets(ctx)).every((r) => r.resealed === 0)).toBe(true);

    // The old key leaves: every secret still opens where its domain reads it.
    useKeys(next);
    const factor = await db().totpFactor.findUniqueOrThrow({ where: { userId: user.id } });
    expect(decrypt(factor.secretCipher, TOTP_SECRETS.context)).toBe(enrollment.secret);
    expect(await checkTotpCode(enrollment.secret, generateSync({ secret: enrollment.secret }))).toMatchObject({ valid: true });
    expect((await providerJwks()).keys).toEqual(jwksBefore);
    expect(await resolveChannel("soc")).toMatchObject({ secret: webhookSecret });
    expect(snapshotContent((await db().forensicSnapshot.findUniqueOrThrow({ where: { id: snapshot.id } })).content)).toBe('{"sessions":[]}');
    expect(await db().auditEvent.count({ where: { action: "keys.reseal", outcome: "success" } })).toBe(2);
  });

  it("goes through every row, batch after batch, and two runs at once seal each value once", async () => {
    const channels = Array.from({ length: 450 }, (_, i) => ({ name: `hook-${i}`, kind: "webhook", target: `https://hooks.example.test/${i}`, secretCipher: encrypt(`whsec_${i}`, CHANNEL_SECRETS.context) }));
    await db().notificationChannel.createMany({ data: channels });
    const next = newKey();
    useKeys(`${next},${originalKeys}`);
    const [first, second] = await Promise.all([resealColumn(CHANNEL_SECRETS), resealColumn(CHANNEL_SECRETS)]);
    // A value already sealed again by the other run is left as that run left it.
    expect(first.resealed + second.resealed).toBe(450);
    expect((await sealedBy(CHANNEL_SECRETS)).get(kid(next))).toBe(450);
    useKeys(next);
    expect(await resolveChannel("hook-449")).toMatchObject({ secret: "whsec_449" });
  });

  it("counts what no configured key opens, leaves it as it is, and records the run as failed", async () => {
    const stray = newKey();
    useKeys(stray);
    await createChannel(newChannelSchema.parse({ kind: "webhook", name: "lost", target: "https://hooks.example.test/lost" }), ctx);
    useKeys(originalKeys);
    const sealed = (await db().notificationChannel.findFirstOrThrow({ where: { name: "lost" } })).secretCipher;

    const results = await resealSecrets(ctx);
    expect(results.find((r) => r.column === "notification_channels.secret_cipher")).toMatchObject({ resealed: 0, unreadable: 1 });
    expect((await db().notificationChannel.findFirstOrThrow({ where: { name: "lost" } })).secretCipher).toBe(sealed);
    expect((await encryptionKeyUsage()).find((k) => k.keyId === kid(stray))).toMatchObject({ configured: false, secrets: 1 });
    expect(await db().auditEvent.count({ where: { action: "keys.reseal", outcome: "failure" } })).toBe(1);
  });
});
