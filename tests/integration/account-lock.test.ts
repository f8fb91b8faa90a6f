import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPasskey, signInWithPassword } from "@/lib/auth/sign-in";
import { ACCOUNT_FAILURE_LIMIT, lockAccount, lockAccountName, signInLockedUntil } from "@/lib/auth/throttle";
import { findActiveSession } from "@/lib/auth/sessions";
import { completeMfaStep } from "@/lib/auth/mfa-step";
import { resetUserMfa, unlockSignIn } from "@/lib/auth/users";
import { FACTOR_FAILURE_LIMIT, verifySecondFactor } from "@/lib/mfa";
import { factorLockedUntil } from "@/lib/mfa/lockout";
import { resetDatabase } from "../support/db";
import { assertion, codeAt, enrollTotp, withPasskey, withTotp } from "../support/mfa";
import { TEST_PASSWORD, client, ctx, makeUser } from "../support/factories";

// A deliberate lock (an incident's "lock accounts" step, a sign-in blocked as too risky) stops every
// way of signing in; failed passwords stop only passwords; an admin can lift either.

beforeEach(resetDatabase);

const password = (email: string, pw = TEST_PASSWORD) => signInWithPassword({ email, password: pw }, client(), null);

describe("account locks", () => {
  it("a deliberate lock refuses the passkey too, until an admin lifts it (audited)", async () => {
    const user = await makeUser();
    const { authenticator } = await withPasskey(user.id);
    await lockAccountName(user.email, new Date(Date.now() + 30 * 60_000));

    expect(await password(user.email)).toMatchObject({ ok: false, reason: "refused", refusal: "account_locked", retryAfterSeconds: expect.any(Number) });
    expect(await signInWithPasskey(await assertion(authenticator, null), client(), null)).toMatchObject({ ok: false, reason: "refused", refusal: "account_locked" });
    expect(await signInLockedUntil(user.email)).toBeInstanceOf(Date);
    // A wrong password hears what it would hear for any account: the lock tells nobody the account exists.
    expect(await password(user.email, "not the password at all")).toEqual({ ok: false, reason: "invalid_credentials" });
    // The owner retrying the right password through the lock runs up no failure lockout of their own.
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT + 1; i++) expect(await password(user.email)).toMatchObject({ refusal: "account_locked" });

    expect(await unlockSignIn(user.id, ctx)).toBe(true);
    expect(await db().auditEvent.count({ where: { action: "account.unlock", resourceId: user.id } })).toBe(1);
    expect(await signInWithPasskey(await assertion(authenticator, null), client(), null)).toMatchObject({ ok: true });
    expect(await password(user.email)).toMatchObject({ ok: true });
    expect(await unlockSignIn(user.id, ctx)).toBe(false);
  });

  it("wrong codes lock the second factor until an admin lifts it, or resets the factors (a new phone starts unlocked)", async () => {
    const lockCodes = async (userId: string) => {
      for (let i = 0; i < FACTOR_FAILURE_LIMIT; i++) await verifySecondFactor(userId, { method: "totp", code: "000000" }, ctx);
      expect(await factorLockedUntil(userId)).toBeInstanceOf(Date);
    };
    const { user, secret } = await withTotp();
    await lockCodes(user.id);
    // No passkey to fall back on: the message says who can help.
    expect(await verifySecondFactor(user.id, { method: "totp", code: await codeAt(secret, new Date()) }, ctx)).toMatchObject({ ok: false, message: expect.stringMatching(/^Too many wrong codes\. Try again in .+, or ask an administrator to lift the lock\.$/) });
    expect(await unlockSignIn(user.id, ctx)).toBe(true);
    const unlock = await db().auditEvent.findFirstOrThrow({ where: { action: "account.unlock", resourceId: user.id } });
    expect(unlock.metadata).toMatchObject({ lockedUntil: null, secondFactorLockedUntil: expect.any(String) });
    expect(await verifySecondFactor(user.id, { method: "totp", code: await codeAt(secret, new Date()) }, ctx)).toEqual({ ok: true, method: "totp" });

    // Locked again, then the admin resets the factors: the new authenticator app's code is taken.
    await lockCodes(user.id);
    await resetUserMfa(user.id, "New phone, identity checked on a video call", ctx);
    const newSecret = await enrollTotp(user);
    expect(await verifySecondFactor(user.id, { method: "totp", code: await codeAt(newSecret, new Date()) }, ctx)).toMatchObject({ ok: true });
  });

  it("a shorter lock never shortens a longer one (only an admin's unlock lifts it)", async () => {
    const user = await makeUser();
    const week = new Date(Date.now() + 7 * 86_400_000);
    await lockAccountName(user.email, week);
    await lockAccountName(user.email, new Date(Date.now() + 60_000));
    expect((await signInLockedUntil(user.email))?.getTime()).toBe(week.getTime());
    const later = new Date(week.getTime() + 86_400_000);
    await lockAccountName(user.email, later);
    expect((await signInLockedUntil(user.email))?.getTime()).toBe(later.getTime());
  });

  it("a lock also ends a sign-in waiting for its second factor: the right code no longer gets in", async () => {
    const { user, secret } = await withTotp();
    const signIn = await password(user.email);
    if (!signIn.ok) throw new Error("sign-in failed");
    const pending = { sessionId: signIn.sessionId, id: user.id, email: user.email, name: user.name, roles: user.roles, groups: [], mfaVerifiedAt: null, passwordVerifiedAt: null, authMethods: ["password"], riskScore: 0, deviceTrusted: false, deviceId: null, stage: "mfa_required" as const, requiredFactor: "any" as const };

    await lockAccount(user, new Date(Date.now() + 30 * 60_000), ctx);
    expect(await findActiveSession(signIn.sessionId)).toBeNull();
    expect(await completeMfaStep(pending, { method: "totp", code: await codeAt(secret, new Date()) }, false, ctx)).toEqual({ ok: false, message: "This sign-in has ended. Sign in again." });
    expect(await db().session.findUniqueOrThrow({ where: { id: signIn.sessionId } })).toMatchObject({ stage: "mfa_required", endReason: "account_locked" });
    expect(await db().auditEvent.count({ where: { action: "session.revoke_all", resourceId: user.id } })).toBe(1);
  });

  it("someone failing the password cannot lock the user out of their passkey", async () => {
    const user = await makeUser();
    const { authenticator } = await withPasskey(user.id);
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) await password(user.email, "not the password at all");
    expect(await password(user.email)).toMatchObject({ ok: false, reason: "throttled" });
    expect(await signInWithPasskey(await assertion(authenticator, null), client(), null)).toMatchObject({ ok: true });

    // The admin sees the lockout and lifts it: the password works again.
    expect(await signInLockedUntil(user.email)).toBeInstanceOf(Date);
    expect(await unlockSignIn(user.id, ctx)).toBe(true);
    expect(await password(user.email)).toMatchObject({ ok: true });
  });
});

describe("the break-glass unlock (npm run users:unlock)", () => {
  const run = promisify(execFile);

  it("lifts an account's lock from the server's shell, audited as the command line", { timeout: 120_000 }, async () => {
    const admin = await makeUser({ roles: ["admin"] });
    await lockAccountName(admin.email, new Date(Date.now() + 30 * 86_400_000));
    const { stdout } = await run("npm", ["run", "--silent", "users:unlock", "--", admin.email.toUpperCase(), "all admins locked by INC-7"], { env: process.env });
    expect(stdout).toContain(`${admin.email} may sign in again`);
    expect(await signInLockedUntil(admin.email)).toBeNull();
    expect(await db().auditEvent.findFirst({ where: { action: "account.unlock", resourceId: admin.id } })).toMatchObject({
      actorType: "system", actorLabel: expect.stringMatching(/^cli \(.+\)$/), metadata: expect.objectContaining({ justification: "all admins locked by INC-7" }),
    });
    await expect(run("npm", ["run", "--silent", "users:unlock", "--", admin.email]))
      .rejects.toMatchObject({ code: 2 });
    await expect(run("npm", ["run", "--silent", "users:unlock", "--", "not-an-email", "a reason"], { env: process.env })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("Usage: npm run users:unlock") });
  });
});
