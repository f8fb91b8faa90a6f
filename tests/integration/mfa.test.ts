import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { blindIndex, decrypt } from "@/lib/crypto";
import { signInWithPasskey, signInWithPassword } from "@/lib/auth/sign-in";
import { findActiveSession } from "@/lib/auth/sessions";
import { completeMfaStep } from "@/lib/auth/mfa-step";
import { userContext } from "@/lib/audit/context";
import { deviceSignedIn, listDevices, recognizeDevice, revokeDeviceTrust, trustDevice } from "@/lib/devices";
import {
  checkTotpCode, confirmTotpEnrollment, consumeBackupCode, FACTOR_FAILURE_LIMIT, generateBackupCodes, listPasskeys,
  CEREMONIES_PER_ADDRESS_PER_MINUTE, MAX_CEREMONIES_PER_USER, passkeyAuthenticationOptions, passkeyOptionsForAddress, passkeyOptionsForSession, passkeyRegistrationOptions, registerPasskey, remainingBackupCodes, removeFactor,
  NoSecondFactorError, renamePasskey, resetMfa, secondFactorProofSchema, startTotpEnrollment, verifySecondFactor,
} from "@/lib/mfa";
import { clearFactorFailures, factorLockedUntil, takeFactorTry } from "@/lib/mfa/lockout";
import { resetDatabase } from "../support/db";
import { SoftAuthenticator } from "../support/soft-authenticator";
import { assertion, codeAt, withPasskey, withTotp } from "../support/mfa";
import { TEST_PASSWORD, client, ctx, makeUser } from "../support/factories";

beforeEach(resetDatabase);

describe("TOTP", () => {
  it("accepts the current step and one either side, not two", async () => {
    const { secret } = await withTotp();
    const now = new Date();
    for (const offset of [-30_000, 0, 30_000]) {
      expect((await checkTotpCode(secret, await codeAt(secret, new Date(now.getTime() + offset)), now)).valid, `offset ${offset}`).toBe(true);
    }
    for (const offset of [-60_000, 60_000]) {
      expect((await checkTotpCode(secret, await codeAt(secret, new Date(now.getTime() + offset)), now)).valid, `offset ${offset}`).toBe(false);
    }
    expect((await checkTotpCode(secret, "12345", now)).valid).toBe(false);
    expect((await checkTotpCode(secret, "abcdef", now)).valid).toBe(false);
  });

  it("refuses a code that was already accepted, even from two requests at once", async () => {
    const { user, secret } = await withTotp();
    const code = await codeAt(secret, new Date());
    const proof = { method: "totp" as const, code };
    const results = await Promise.all([verifySecondFactor(user.id, proof, ctx), verifySecondFactor(user.id, proof, ctx)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const replay = await verifySecondFactor(user.id, proof, ctx);
    expect(replay).toEqual({ ok: false, message: "That code was already used. Wait for the next one." });
  });

  it("is only a factor once confirmed, and its secret is encrypted at rest", async () => {
    const user = await makeUser();
    const enrollment = await startTotpEnrollment(user);
    if ("error" in enrollment) throw new Error(enrollment.error);
    expect(enrollment.uri).toMatch(/^otpauth:\/\/totp\/Gatehouse:.+\?.*issuer=Gatehouse/);
    const row = await db().totpFactor.findUniqueOrThrow({ where: { userId: user.id } });
    expect(row.secretCipher).not.toContain(enrollment.secret);
    expect(await verifySecondFactor(user.id, { method: "totp", code: await codeAt(enrollment.secret, new Date()) }, ctx)).toMatchObject({ ok: false });
    expect((await confirmTotpEnrollment(user.id, "000000", ctx)).ok).toBe(false);
  });

  it("confirming an enrollment spends the account's code tries: wrong guesses lock it, even against the right code, and the lock is audited", async () => {
    const user = await makeUser();
    const started = await startTotpEnrollment(user);
    if ("error" in started) throw new Error(started.error);
    // Not a code at all: a typing slip, which spends nothing.
    for (let i = 0; i < 10; i++) expect(await confirmTotpEnrollment(user.id, "12 34", ctx)).toEqual({ ok: false, reason: "invalid" });
    const right = await codeAt(started.secret, new Date());
    const wrong = right === "000000" ? "111111" : "000000";
    for (let i = 0; i < FACTOR_FAILURE_LIMIT; i++) expect(await confirmTotpEnrollment(user.id, wrong, ctx)).toEqual({ ok: false, reason: "invalid" });
    expect(await confirmTotpEnrollment(user.id, right, ctx)).toEqual({ ok: false, reason: "locked", retryAfterSeconds: expect.any(Number) });
    expect(await db().totpFactor.findUniqueOrThrow({ where: { userId: user.id } })).toMatchObject({ activatedAt: null });
    expect(await db().auditEvent.count({ where: { action: "mfa.factor.lock", resourceId: user.id } })).toBe(1);
    expect(await db().auditEvent.count({ where: { action: "mfa.totp.enroll", resourceId: user.id, outcome: "blocked" } })).toBe(1);

    // Once the lock is lifted, the right code confirms, and the tries start again.
    await clearFactorFailures(user.id);
    expect((await confirmTotpEnrollment(user.id, right, ctx)).ok).toBe(true);
    expect(await factorLockedUntil(user.id)).toBeNull();
  });

  it("a started enrollment is confirmed only by the session that started it (and saw its secret)", async () => {
    const user = await makeUser();
    const [owners, stolen] = [randomUUID(), randomUUID()];
    const started = await startTotpEnrollment({ ...user, sessionId: owners });
    if ("error" in started) throw new Error(started.error);
    // Another session of the account, with the right code even: not its setup to confirm.
    expect(await confirmTotpEnrollment(user.id, await codeAt(started.secret, new Date()), ctx, stolen)).toEqual({ ok: false, reason: "not_enrolled" });
    expect(await db().totpFactor.findUniqueOrThrow({ where: { userId: user.id } })).toMatchObject({ activatedAt: null });
    expect((await confirmTotpEnrollment(user.id, await codeAt(started.secret, new Date()), ctx, owners)).ok).toBe(true);
  });

  it("a started enrollment can be confirmed for half an hour (its start asked for the step-up), not later", async () => {
    const user = await makeUser();
    const started = await startTotpEnrollment(user);
    if ("error" in started) throw new Error("enrollment did not start");
    await db().totpFactor.update({ where: { userId: user.id }, data: { createdAt: new Date(Date.now() - 31 * 60_000) } });
    expect(await confirmTotpEnrollment(user.id, await codeAt(started.secret, new Date()), ctx)).toEqual({ ok: false, reason: "not_enrolled" });
    await db().totpFactor.update({ where: { userId: user.id }, data: { createdAt: new Date(Date.now() - 29 * 60_000) } });
    expect((await confirmTotpEnrollment(user.id, await codeAt(started.secret, new Date()), ctx)).ok).toBe(true);
  });

  it("a restarted enrollment replaces the unconfirmed secret, and never an activated one", async () => {
    const user = await makeUser();
    const first = await startTotpEnrollment(user);
    const second = await startTotpEnrollment(user);
    if ("error" in first || "error" in second) throw new Error("enrollment did not start");
    expect(second.secret).not.toBe(first.secret);
    expect((await confirmTotpEnrollment(user.id, await codeAt(first.secret, new Date()), ctx)).ok).toBe(false);
    expect((await confirmTotpEnrollment(user.id, await codeAt(second.secret, new Date()), ctx)).ok).toBe(true);
    // A confirmation racing a restart in another tab: whenever the confirmation wins, the factor
    // in force is the secret its code came from, never the restart's.
    for (let i = 0; i < 8; i++) {
      const racer = await makeUser();
      const started = await startTotpEnrollment(racer);
      if ("error" in started) throw new Error(started.error);
      const [confirmed] = await Promise.all([confirmTotpEnrollment(racer.id, await codeAt(started.secret, new Date()), ctx), startTotpEnrollment(racer)]);
      const factor = await db().totpFactor.findUniqueOrThrow({ where: { userId: racer.id } });
      if (confirmed.ok) expect(decrypt(factor.secretCipher, "mfa.totp")).toBe(started.secret);
      else expect(factor.activatedAt).toBeNull();
    }
    // Both at once after activation (two tabs): neither replaces the active secret.
    const again = await Promise.all([startTotpEnrollment(user), startTotpEnrollment(user)]);
    expect(again).toEqual([{ error: expect.stringMatching(/already set up/) }, { error: expect.stringMatching(/already set up/) }]);
    expect((await verifySecondFactor(user.id, { method: "totp", code: await codeAt(second.secret, new Date(Date.now() + 30_000)) }, ctx)).ok).toBe(true);
  });

  it("locks after repeated wrong codes, refusing even the right one, and audits the lock", async () => {
    const { user, secret } = await withTotp();
    for (let i = 0; i < FACTOR_FAILURE_LIMIT; i++) {
      expect((await verifySecondFactor(user.id, { method: "totp", code: "000000" }, ctx)).ok).toBe(false);
    }
    const locked = await verifySecondFactor(user.id, { method: "totp", code: await codeAt(secret, new Date()) }, ctx);
    expect(locked).toMatchObject({ ok: false, message: expect.stringMatching(/Too many wrong codes/) });
    const lockEvents = await db().auditEvent.count({ where: { action: "mfa.factor.lock", resourceId: user.id } });
    expect(lockEvents).toBe(1);
  });

  it("counts wrong codes over a day, and each further lock lasts longer", async () => {
    const { user } = await withTotp();
    const start = new Date("2026-12-01T08:00:00Z");
    const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000);
    // Four guesses, then four more a quarter of an hour later: the fifth wrong one locks.
    for (let i = 0; i < 4; i++) expect(await takeFactorTry(user.id, at(0))).toEqual({ locked: false, lastTry: false });
    expect(await takeFactorTry(user.id, at(16))).toEqual({ locked: false, lastTry: true });
    expect(await takeFactorTry(user.id, at(17))).toMatchObject({ locked: true, retryAfterSeconds: 14 * 60 });
    // After the lock, five more: the next lock is twice as long.
    for (let i = 0; i < 4; i++) await takeFactorTry(user.id, at(32));
    expect(await takeFactorTry(user.id, at(32))).toEqual({ locked: false, lastTry: true });
    expect(await takeFactorTry(user.id, at(33))).toMatchObject({ locked: true, retryAfterSeconds: 29 * 60 });
  });

  it("takes no try for a code that cannot be one, and reads a spaced code", async () => {
    const { user, secret } = await withTotp();
    for (const code of ["12345", "", "123 45", "abcdef", "1234567"]) {
      expect(await verifySecondFactor(user.id, { method: "totp", code }, ctx)).toEqual({ ok: false, message: "Enter the 6-digit code your authenticator app shows." });
    }
    expect(await verifySecondFactor(user.id, { method: "backup_code", code: "abc" }, ctx)).toMatchObject({ ok: false, message: expect.stringMatching(/^Enter a backup code/) });
    const code = await codeAt(secret, new Date());
    const spaced = secondFactorProofSchema.parse({ method: "totp", code: `${code.slice(0, 3)} ${code.slice(3)}` });
    expect(await verifySecondFactor(user.id, spaced, ctx)).toEqual({ ok: true, method: "totp" });
  });

  it("checks no more codes than the limit when many are sent at once", async () => {
    const { user } = await withTotp();
    const guesses = Array.from({ length: 30 }, (_, i) => String(100_000 + i));
    const answers = await Promise.all(guesses.map((code) => verifySecondFactor(user.id, { method: "totp", code }, ctx)));
    const checked = answers.filter((a) => !a.ok && !/Too many wrong codes/.test(a.message));
    expect(answers.every((a) => !a.ok)).toBe(true);
    expect(checked.length).toBeLessThanOrEqual(FACTOR_FAILURE_LIMIT);
    expect(await db().auditEvent.count({ where: { action: "mfa.factor.lock", resourceId: user.id } })).toBe(1);
  });
});

describe("backup codes", () => {
  it("are ten single-use codes, accepted in any case or spacing, replaced on regeneration", async () => {
    const { user } = await withTotp();
    const codes = await generateBackupCodes(user.id, ctx);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const stored = await db().backupCode.findMany({ where: { userId: user.id } });
    expect(stored.some((row) => codes.includes(row.codeHash))).toBe(false);

    expect(await consumeBackupCode(user.id, ` ${codes[0]!.toUpperCase().replace("-", " ")} `)).toBe(true);
    expect(await consumeBackupCode(user.id, codes[0]!)).toBe(false);
    expect(await remainingBackupCodes(user.id)).toBe(9);

    const fresh = await generateBackupCodes(user.id, ctx);
    expect(await consumeBackupCode(user.id, codes[1]!)).toBe(false);
    expect(await consumeBackupCode(user.id, fresh[0]!)).toBe(true);
  });

  it("are never made for an account without a second factor, even by a request let in while it had one", async () => {
    const { user } = await withTotp();
    // The factor went (another tab) after the request to regenerate was let in.
    expect(await removeFactor(user, { kind: "totp" }, ctx)).toEqual({ ok: true });
    await expect(generateBackupCodes(user.id, ctx)).rejects.toThrow(NoSecondFactorError);
    expect(await remainingBackupCodes(user.id)).toBe(0);
  });

  it("regenerated twice at once leave one set of ten", async () => {
    const { user } = await withTotp();
    const [first, second] = await Promise.all([generateBackupCodes(user.id, ctx), generateBackupCodes(user.id, ctx)]);
    expect(await remainingBackupCodes(user.id)).toBe(10);
    const working = [];
    for (const code of [first![0]!, second![0]!]) if (await consumeBackupCode(user.id, code)) working.push(code);
    expect(working).toHaveLength(1);
  });

  it("belong to one user only", async () => {
    const { user: alice } = await withTotp();
    const { user: mallory } = await withTotp();
    const codes = await generateBackupCodes(alice.id, ctx);
    expect(await consumeBackupCode(mallory.id, codes[0]!)).toBe(false);
    expect(await consumeBackupCode(alice.id, codes[0]!)).toBe(true);
    // A code stored the way codes were before they were keyed to their user still works, once.
    await db().backupCode.create({ data: { userId: mallory.id, codeHash: blindIndex("abcde23456", "mfa.backup_code") } });
    expect(await consumeBackupCode(mallory.id, "ABCDE-23456")).toBe(true);
    expect(await consumeBackupCode(mallory.id, "abcde-23456")).toBe(false);
  });
});

describe("passkeys", () => {
  it("one authenticator registered twice at once: one passkey, and a clear answer to the other", async () => {
    const user = await makeUser();
    const authenticator = new SoftAuthenticator();
    const attempts = await Promise.all([1, 2].map(async () => {
      const { challengeId, options } = await passkeyRegistrationOptions(user);
      return registerPasskey(user.id, { challengeId, response: authenticator.register(options), name: "Laptop" }, ctx);
    }));
    expect(attempts.filter((a) => a.ok)).toHaveLength(1);
    expect(attempts.filter((a) => !a.ok)).toEqual([{ ok: false, message: "That passkey is already registered." }]);
    expect(await db().passkey.count({ where: { userId: user.id } })).toBe(1);
  });

  it("register with their authenticator's name, then sign in passwordless", async () => {
    const user = await makeUser();
    const { authenticator, passkey } = await withPasskey(user.id);
    expect(passkey).toMatchObject({ name: "Laptop", authenticator: "1Password", synced: true });
    const result = await signInWithPasskey(await assertion(authenticator, null), client(), null);
    expect(result).toMatchObject({ ok: true, userId: user.id });
    const session = await findActiveSession(result.ok ? result.sessionId : "");
    expect(session).toMatchObject({ stage: "active", authMethods: ["passkey"] });
    expect(session?.mfaVerifiedAt).not.toBeNull();
  });

  it("refuse a replayed assertion and a challenge used twice", async () => {
    const user = await makeUser();
    const { authenticator } = await withPasskey(user.id);
    const once = await assertion(authenticator, null);
    expect((await signInWithPasskey(once, client(), null)).ok).toBe(true);
    expect(await signInWithPasskey(once, client(), null)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("a sign counter that goes backwards is refused and audited as a possible clone", async () => {
    const user = await makeUser();
    const { authenticator, passkey } = await withPasskey(user.id);
    expect((await signInWithPasskey(await assertion(authenticator, null, 5), client(), null)).ok).toBe(true);
    expect((await signInWithPasskey(await assertion(authenticator, null, 3), client(), null)).ok).toBe(false);
    const clone = await db().auditEvent.findFirst({ where: { action: "mfa.passkey.clone_suspected" } });
    expect(clone).toMatchObject({ outcome: "blocked", resourceId: passkey.id });
  });

  it("a forged answer with a low counter is refused as invalid and raises no clone signal (its playbook resets the owner's factors)", async () => {
    const user = await makeUser();
    const { authenticator } = await withPasskey(user.id);
    expect((await signInWithPasskey(await assertion(authenticator, null, 5), client(), null)).ok).toBe(true);
    const { challengeId, options } = await passkeyAuthenticationOptions(null);
    const forged = authenticator.authenticate(options, 0);
    forged.response.signature = Buffer.from("not the key's signature").toString("base64url");
    expect(await signInWithPasskey({ challengeId, response: JSON.stringify(forged) }, client(), null)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await db().auditEvent.count({ where: { action: "mfa.passkey.clone_suspected" } })).toBe(0);
    // The stored counter did not move, so the real authenticator still gets in.
    expect((await signInWithPasskey(await assertion(authenticator, null, 6), client(), null)).ok).toBe(true);
  });

  it("an account keeps only its newest ceremonies: a browser asking again and again cannot fill the table", async () => {
    const user = await makeUser();
    const { authenticator } = await withPasskey(user.id);
    const issued: Awaited<ReturnType<typeof passkeyAuthenticationOptions>>[] = [];
    for (let i = 0; i < MAX_CEREMONIES_PER_USER + 10; i++) issued.push(await passkeyAuthenticationOptions(user.id));
    expect(await db().webAuthnChallenge.count({ where: { userId: user.id } })).toBe(MAX_CEREMONIES_PER_USER);
    // The newest still works; the oldest has ended.
    const newest = issued.at(-1)!;
    const answer = (o: (typeof issued)[number]) => ({ method: "passkey" as const, challengeId: o.challengeId, response: JSON.stringify(authenticator.authenticate(o.options)) });
    expect(await verifySecondFactor(user.id, answer(newest), ctx)).toMatchObject({ ok: true });
    expect(await verifySecondFactor(user.id, answer(issued[0]!), ctx)).toMatchObject({ ok: false });
  });

  it("a browser asks for at most 10 ceremonies a minute: one holding only the password cannot evict the owner's in flight", async () => {
    const user = await makeUser();
    const [stranger, owner] = [{ id: user.id, sessionId: "session-of-the-password-holder" }, { id: user.id, sessionId: "session-of-the-owner" }];
    const now = new Date();
    const mine = await passkeyOptionsForSession(owner, now);
    for (let i = 0; i < 10; i++) expect(await passkeyOptionsForSession(stranger, now)).not.toBeNull();
    expect(await passkeyOptionsForSession(stranger, now)).toBeNull();
    // The owner's ceremony is still there; a minute on, the stranger may ask again.
    expect(await db().webAuthnChallenge.count({ where: { id: mine!.challengeId } })).toBe(1);
    expect(await passkeyOptionsForSession(stranger, new Date(now.getTime() + 61_000))).not.toBeNull();
  });

  it("the sign-in page's ceremonies are bounded per address (an IPv6 subscriber's /64 is one)", async () => {
    const now = new Date();
    for (let i = 0; i < CEREMONIES_PER_ADDRESS_PER_MINUTE; i++) expect(await passkeyOptionsForAddress(`2001:db8:5::${i.toString(16)}`, now)).not.toBeNull();
    expect(await passkeyOptionsForAddress("2001:db8:5::ffff", now)).toBeNull();
    expect(await passkeyOptionsForAddress("198.51.100.9", now)).not.toBeNull();
  });

  it("a malformed answer (NUL in the credential id, odd transports) is refused, never a server error", async () => {
    const user = await makeUser();
    const { authenticator } = await withPasskey(user.id);
    const { challengeId, options } = await passkeyAuthenticationOptions(null);
    const answer = { ...authenticator.authenticate(options), id: "abc\u0000def" };
    expect(await verifySecondFactor(user.id, { method: "passkey", challengeId, response: JSON.stringify(answer) }, ctx)).toMatchObject({ ok: false });
    const other = new SoftAuthenticator();
    const registration = await passkeyRegistrationOptions(user);
    const response = other.register(registration.options);
    response.response.transports = ["usb", "\u0000", "carrier pigeon"];
    const registered = await registerPasskey(user.id, { challengeId: registration.challengeId, response, name: "Key" }, ctx);
    expect(registered.ok && registered.passkey.id).toBeTruthy();
    expect((await db().passkey.findFirstOrThrow({ where: { credentialId: other.id } })).transports).toEqual(["usb"]);
  });

  it("two answers carrying the same counter: one gets in, the other is a clone signal", async () => {
    const user = await makeUser();
    const { authenticator } = await withPasskey(user.id);
    const [first, second] = [await assertion(authenticator, null, 7), await assertion(authenticator, null, 7)];
    const results = await Promise.all([signInWithPasskey(first, client(), null), signInWithPasskey(second, client(), null)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await db().auditEvent.count({ where: { action: "mfa.passkey.clone_suspected" } })).toBe(1);
  });

  it("as a second factor, must belong to the user being verified", async () => {
    const alice = await makeUser();
    const mallory = await makeUser();
    const { authenticator } = await withPasskey(mallory.id);
    const { challengeId, options } = await passkeyAuthenticationOptions(null);
    const proof = { method: "passkey" as const, challengeId, response: JSON.stringify(authenticator.authenticate(options)) };
    expect((await verifySecondFactor(alice.id, proof, ctx)).ok).toBe(false);
  });

  it("cannot be renamed or removed by another user", async () => {
    const alice = await makeUser();
    const mallory = await makeUser();
    const { passkey } = await withPasskey(alice.id);
    expect(await renamePasskey(mallory.id, passkey.id, "pwned", ctx)).toBe(false);
    expect(await removeFactor(mallory, { kind: "passkey", passkeyId: passkey.id }, ctx)).toMatchObject({ ok: false });
    expect(await listPasskeys(alice.id)).toMatchObject([{ name: "Laptop" }]);
  });
});

describe("factor removal", () => {
  it("refuses to remove the last factor of an account whose role requires MFA", async () => {
    const { user } = await withTotp(["admin"]);
    expect(await removeFactor(user, { kind: "totp" }, ctx)).toMatchObject({ ok: false, message: expect.stringMatching(/last second factor/) });
    expect(await db().totpFactor.count({ where: { userId: user.id } })).toBe(1);
    await withPasskey(user.id);
    expect(await removeFactor(user, { kind: "totp" }, ctx)).toEqual({ ok: true });
  });

  it("judges the account's roles as they are when the factor is removed, not as the request found them", async () => {
    const { user } = await withTotp();
    // An admin made the account an admin after its request to remove the factor was let in.
    const asRequested = { ...user, roles: ["user"] };
    await db().user.update({ where: { id: user.id }, data: { roles: ["user", "admin"] } });
    expect(await removeFactor(asRequested, { kind: "totp" }, ctx)).toMatchObject({ ok: false, message: expect.stringMatching(/last second factor/) });
    expect(await db().totpFactor.count({ where: { userId: user.id } })).toBe(1);
  });

  it("removing a user's last factor also drops their backup codes", async () => {
    const { user } = await withTotp();
    await generateBackupCodes(user.id, ctx);
    expect(await removeFactor(user, { kind: "totp" }, ctx)).toEqual({ ok: true });
    expect(await remainingBackupCodes(user.id)).toBe(0);
  });

  it("removing a factor makes remembered devices pass the second step again", async () => {
    const { user } = await withTotp();
    await withPasskey(user.id);
    const device = await recognizeDevice(user.id, null, client());
    // Remembered after a sign-in from it passed its second step, as the MFA step does it.
    await deviceSignedIn(device.id, new Date());
    await trustDevice(user.id, device.id, ctx);
    const stage = async () => {
      const r = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), device.newToken);
      return r.ok ? (await findActiveSession(r.sessionId))!.stage : "failed";
    };
    expect(await stage()).toBe("active");
    // The authenticator app is removed (say, it was phished): the remembered browser must prove the passkey now.
    expect(await removeFactor(user, { kind: "totp" }, ctx)).toEqual({ ok: true });
    expect(await stage()).toBe("mfa_required");
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "mfa.totp.remove" } });
    expect(event.metadata).toMatchObject({ untrustedDevices: 1 });
  });

  it("a remembered device stays listed, to be forgotten, however many browsers came after it", async () => {
    const { user } = await withTotp();
    const laptop = await recognizeDevice(user.id, null, client(), new Date(Date.now() - 60_000));
    await deviceSignedIn(laptop.id, new Date(Date.now() - 60_000));
    await trustDevice(user.id, laptop.id, ctx);
    // Private windows (or someone with the password alone) each add a device.
    for (let i = 0; i < 51; i++) await recognizeDevice(user.id, null, client());
    const listed = await listDevices(user.id);
    expect(listed).toHaveLength(51);
    expect(listed.at(-1)).toMatchObject({ id: laptop.id, trustedUntil: expect.any(Date) });
  });

  it("an admin reset removes everything and is audited with its reason", async () => {
    const { user } = await withTotp();
    await withPasskey(user.id);
    await generateBackupCodes(user.id, ctx);
    await resetMfa(user.id, "Lost phone, identity checked on a video call (ticket 4711)", ctx);
    expect(await db().passkey.count({ where: { userId: user.id } })).toBe(0);
    expect(await db().totpFactor.count({ where: { userId: user.id } })).toBe(0);
    const event = await db().auditEvent.findFirst({ where: { action: "mfa.reset" } });
    expect(event?.metadata).toMatchObject({ reason: expect.stringContaining("ticket 4711") });
  });
});

describe("the MFA step in sign-in", () => {
  it("a user with TOTP gets a pending session that only the right code activates", async () => {
    const { user, secret } = await withTotp();
    const signIn = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    if (!signIn.ok) throw new Error("sign-in failed");
    const session = await findActiveSession(signIn.sessionId);
    expect(session).toMatchObject({ stage: "mfa_required", requiredFactor: "any", authMethods: ["password"] });
    expect(session!.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(10 * 60_000);

    const pending = { sessionId: signIn.sessionId, id: user.id, email: user.email, name: user.name, roles: user.roles, groups: [], mfaVerifiedAt: null, passwordVerifiedAt: null, authMethods: ["password"], riskScore: 0, deviceTrusted: false, deviceId: null, stage: "mfa_required" as const, requiredFactor: "any" as const };
    const audit = userContext(user, client());
    const lastSignIn = async () => (await db().user.findUniqueOrThrow({ where: { id: user.id } })).lastSignInAt;
    // A password alone is not a sign-in: a stolen one failing the second factor keeps an idle account idle.
    expect(await lastSignIn()).toBeNull();
    expect((await completeMfaStep(pending, { method: "totp", code: "111111" }, false, audit)).ok).toBe(false);
    expect((await completeMfaStep(pending, { method: "totp", code: await codeAt(secret, new Date()) }, true, audit)).ok).toBe(true);
    expect(await lastSignIn()).toEqual(session!.createdAt);
    const active = await findActiveSession(signIn.sessionId);
    expect(active).toMatchObject({ stage: "active", authMethods: ["password", "totp"] });

    // The device was remembered: the next sign-in from it (same cookie token) skips the step.
    const device = await db().device.findUniqueOrThrow({ where: { id: active!.deviceId! } });
    expect(device.trustedUntil!.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });

  it("a remembered device skips the step until its trust is revoked", async () => {
    const { user } = await withTotp();
    const device = await recognizeDevice(user.id, null, { ...client(), userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36" });
    expect(await db().device.findUniqueOrThrow({ where: { id: device.id } })).toMatchObject({ label: "Chrome on Linux" });
    await deviceSignedIn(device.id, new Date());
    await trustDevice(user.id, device.id, ctx);
    const stageOf = async (token: string | null) => {
      const r = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), token);
      return r.ok ? (await findActiveSession(r.sessionId))!.stage : "failed";
    };
    expect(await stageOf(device.newToken)).toBe("active");
    expect(await stageOf("forged-token")).toBe("mfa_required");
    expect(await stageOf(null)).toBe("mfa_required");
    const mallory = await makeUser();
    expect(await revokeDeviceTrust(mallory.id, device.id, ctx)).toBe(0);
    expect(await revokeDeviceTrust(user.id, device.id, ctx)).toBe(1);
    expect(await stageOf(device.newToken)).toBe("mfa_required");
  });

  it("an admin without a factor must enroll before reaching the app", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const r = await signInWithPassword({ email: admin.email, password: TEST_PASSWORD }, client(), null);
    expect(r.ok && (await findActiveSession(r.sessionId))?.stage).toBe("enrollment_required");
  });
});
