import { beforeEach, describe, expect, it, vi } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPasskey, signInWithPassword } from "@/lib/auth/sign-in";
import { findActiveSession } from "@/lib/auth/sessions";
import { afterFactorEnrolled, completeMfaStep } from "@/lib/auth/mfa-step";
import { changePassword, completeRequiredPasswordChange, requirePasswordReset, setTemporaryPassword, storeNewPassword } from "@/lib/auth/users";
import { reauthenticateWithPassword } from "@/lib/auth/reauthenticate";
import { hashPassword, newPasswordPairSchema } from "@/lib/auth/password";
import type { CurrentUser, PendingSignIn } from "@/lib/auth/current";
import { userContext } from "@/lib/audit/context";
import { resetDatabase } from "../support/db";
import { assertion, codeAt, enrollTotp, withPasskey, withTotp } from "../support/mfa";
import { TEST_PASSWORD, client, ctx, makeUser } from "../support/factories";
import { formData as form } from "../support/forms";

// A new password required at the next sign-in: an admin's temporary password (trusted: it came by
// the admin's channel), or an incident playbook's requirement (the password is distrusted: only a
// second factor or a passkey proves who is there). The sign-in passes its factors as usual, then
// waits in password_change_required until the user chooses a new password.

// The form's server action runs for real, with the request's pending sign-in swapped in (the
// cookie and Next's request are what a unit cannot have); everything below it is the real code.
let pendingNow: PendingSignIn | null = null;
vi.mock("@/lib/auth/current", () => ({ currentUser: async () => null, currentPendingSignIn: async () => pendingNow, hasFreshMfa: () => false }));
vi.mock("@/lib/auth/next-auth", () => ({ auth: async () => null, signIn: async () => undefined, signOut: async () => undefined, handlers: {}, ThrottledSignIn: class {}, RefusedSignIn: class {} }));
vi.mock("@/lib/http/request-context", () => ({ requestContext: async () => client(), requestPath: async () => "/" }));
// As when the page's JavaScript calls the action: leaveTo answers with where to go.
vi.mock("next/headers", () => ({ headers: async () => new Headers({ "next-action": "test" }) }));
const { chooseNewPasswordAction } = await import("@/app/(auth)/sign-in/new-password/actions");

beforeEach(async () => {
  pendingNow = null;
  await resetDatabase();
});

const NEW_PASSWORD = "a brand new passphrase for this account";
const PENDING_MS = 10 * 60_000;

type TestUser = Awaited<ReturnType<typeof makeUser>>;

/** A user whose admin set a temporary password (TEST_PASSWORD), to be replaced at the next sign-in. */
async function flaggedUser(roles: ("admin" | "user")[] = []): Promise<TestUser> {
  const user = await makeUser({ roles });
  await setTemporaryPassword(user.id, TEST_PASSWORD, ctx);
  return user;
}

async function passwordSignIn(email: string, password = TEST_PASSWORD) {
  const result = await signInWithPassword({ email, password }, client(), null);
  if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
  return result.sessionId;
}

/** What lib/auth/current.ts does with the row: only an active session is a signed-in user. */
async function signedInUserId(sessionId: string): Promise<string | null> {
  const row = await findActiveSession(sessionId);
  return row?.stage === "active" ? row.user.id : null;
}

const asUser = (user: TestUser, sessionId: string): CurrentUser => ({
  sessionId, id: user.id, email: user.email, name: user.name, roles: user.roles, groups: [], mfaVerifiedAt: null, passwordVerifiedAt: null, authMethods: ["password"], riskScore: 0, deviceTrusted: false, deviceId: null,
});

describe("signing in while a new password is required", () => {
  it("a password sign-in gets a short-lived session that is not signed in", async () => {
    const user = await flaggedUser();
    const sessionId = await passwordSignIn(user.email);
    const session = await findActiveSession(sessionId);
    expect(session).toMatchObject({ stage: "password_change_required", authMethods: ["password"] });
    expect(session!.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(PENDING_MS);
    expect(await signedInUserId(sessionId)).toBeNull();
    const event = await db().auditEvent.findFirst({ where: { action: "auth.sign_in", outcome: "success", resourceId: sessionId } });
    expect(event?.metadata).toMatchObject({ stage: "password_change_required" });
    // The risk baseline learns only from sign-ins that reach the app.
    expect(await db().riskBaseline.findUnique({ where: { userId: user.id } })).toBeNull();
  });

  it("after an incident's requirement the password alone proves nothing: without a second factor the sign-in is refused", async () => {
    for (const roles of [[], ["admin"]] as const) {
      const user = await makeUser({ roles: [...roles] });
      expect(await requirePasswordReset(user.id, "INC-1: credential stuffing", ctx)).toBe(true);
      // Neither the new password nor (for an admin) a first factor is chosen on the old password's word.
      expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toEqual({ ok: false, reason: "refused", refusal: "password_distrusted" });
      expect(await db().session.count({ where: { userId: user.id } })).toBe(0);
      const refused = await db().auditEvent.findFirstOrThrow({ where: { action: "risk.sign_in_refused", resourceId: user.id } });
      expect(refused.metadata).toMatchObject({ reason: "password_distrusted" });
    }
  });

  it("with TOTP enrolled, the MFA step comes first and leads to the password change", async () => {
    const { user, secret } = await withTotp();
    await requirePasswordReset(user.id, "INC-2", ctx);
    const sessionId = await passwordSignIn(user.email);
    expect(await findActiveSession(sessionId)).toMatchObject({ stage: "mfa_required" });

    const pending: PendingSignIn = { ...asUser(user, sessionId), stage: "mfa_required", requiredFactor: "any" };
    const step = await completeMfaStep(pending, { method: "totp", code: await codeAt(secret, new Date()) }, false, userContext(user, client()));
    expect(step).toEqual({ ok: true, stage: "password_change_required" });
    const session = await findActiveSession(sessionId);
    expect(session).toMatchObject({ stage: "password_change_required", authMethods: ["password", "totp"] });
    expect(session!.mfaVerifiedAt).not.toBeNull();
    expect(session!.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(PENDING_MS);
    expect(await signedInUserId(sessionId)).toBeNull();
  });

  it("an account that must enroll a factor enrolls first, then changes the password", async () => {
    const admin = await flaggedUser(["admin"]);
    const sessionId = await passwordSignIn(admin.email);
    expect(await findActiveSession(sessionId)).toMatchObject({ stage: "enrollment_required" });
    await enrollTotp(admin);
    await afterFactorEnrolled(asUser(admin, sessionId), ctx);
    expect(await findActiveSession(sessionId)).toMatchObject({ stage: "password_change_required" });
  });

  it("a passkey sign-in also waits for the new password", async () => {
    const user = await flaggedUser();
    const { authenticator } = await withPasskey(user.id);
    const result = await signInWithPasskey(await assertion(authenticator, null), client(), null);
    if (!result.ok) throw new Error("passkey sign-in failed");
    expect(await findActiveSession(result.sessionId)).toMatchObject({ stage: "password_change_required", authMethods: ["passkey"] });
    expect(await signedInUserId(result.sessionId)).toBeNull();
  });

  it("a password changed another way (an admin session that was already open) also satisfies the requirement", async () => {
    const user = await makeUser();
    const openSession = await passwordSignIn(user.email);
    // A session that verified a second factor is not ended by the requirement.
    await db().session.update({ where: { id: openSession }, data: { mfaVerifiedAt: new Date() } });
    await requirePasswordReset(user.id, "INC-5", ctx);
    expect(await findActiveSession(openSession)).not.toBeNull();
    // That session proved a second factor recently: the old password with it still counts.
    expect(await changePassword({ id: user.id, email: user.email, sessionId: openSession }, TEST_PASSWORD, NEW_PASSWORD, userContext(user, null), { factorVerified: true })).toMatchObject({ ok: true });
    expect(await signedInUserId(await passwordSignIn(user.email, NEW_PASSWORD))).toBe(user.id);
  });

  it("a session the password alone opened before the incident ends; nor could it use the old password to change it or step up", async () => {
    const user = await makeUser();
    const openSession = await passwordSignIn(user.email);
    await requirePasswordReset(user.id, "INC-6", ctx);
    expect(await findActiveSession(openSession)).toBeNull();
    expect((await db().session.findUniqueOrThrow({ where: { id: openSession } })).endReason).toBe("password_distrusted");
    const me = { id: user.id, email: user.email, sessionId: openSession };
    const verifiedAtSignIn = (await db().session.findUniqueOrThrow({ where: { id: openSession } })).passwordVerifiedAt;
    expect(await changePassword(me, TEST_PASSWORD, NEW_PASSWORD, userContext(user, null))).toEqual({ ok: false, reason: "password_distrusted" });
    expect(await reauthenticateWithPassword(me, TEST_PASSWORD, userContext(user, null))).toEqual({ ok: false, reason: "password_distrusted" });
    expect((await db().session.findUniqueOrThrow({ where: { id: openSession } })).passwordVerifiedAt).toEqual(verifiedAtSignIn);
    expect(await db().auditEvent.count({ where: { outcome: "blocked", resourceId: user.id, action: { in: ["password.change", "session.reauthenticate"] } } })).toBe(2);
    // The old password still opens nothing, and a wrong one is still just wrong.
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toMatchObject({ reason: "refused" });
    expect(await changePassword(me, "not my password", NEW_PASSWORD, userContext(user, null))).toEqual({ ok: false, reason: "wrong_password" });
  });

  it("a requirement set while a new password was being checked and hashed stays in force", async () => {
    const user = await makeUser();
    const changeBegan = new Date(Date.now() - 2_000);
    await requirePasswordReset(user.id, "INC-10: raised mid-change", ctx);
    const hash = await hashPassword(NEW_PASSWORD);
    await db().$transaction((tx) => storeNewPassword(tx, user.id, hash, changeBegan));
    const after = await db().user.findUniqueOrThrow({ where: { id: user.id }, include: { password: true } });
    expect(after.passwordResetRequiredAt).not.toBeNull();
    // And the password stored under it is distrusted like the one before.
    expect(await signInWithPassword({ email: user.email, password: NEW_PASSWORD }, client(), null)).toEqual({ ok: false, reason: "refused", refusal: "password_distrusted" });
  });

  it("an incident's requirement over an admin's temporary password not yet replaced distrusts it too", async () => {
    const user = await flaggedUser();
    expect(await requirePasswordReset(user.id, "INC-8: the temporary password was sent by chat", ctx)).toBe(true);
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toEqual({ ok: false, reason: "refused", refusal: "password_distrusted" });
    // Asked again, nothing changes (and nothing is audited twice).
    expect(await requirePasswordReset(user.id, "INC-8", ctx)).toBe(false);
  });

  it("an account without the flag signs in as before", async () => {
    const user = await makeUser();
    expect(await signedInUserId(await passwordSignIn(user.email))).toBe(user.id);
  });
});

describe("completing the required password change", () => {
  it("refuses the current password, then a new one lets the session in and retires the old one", async () => {
    const user = await makeUser();
    const earlier = await passwordSignIn(user.email); // opened before the incident, with the old password
    const { authenticator } = await withPasskey(user.id);
    await requirePasswordReset(user.id, "INC-3", ctx);
    // The password alone opened it: it ended with the requirement.
    expect(await findActiveSession(earlier)).toBeNull();
    const passkey = await signInWithPasskey(await assertion(authenticator, null), client(), null);
    if (!passkey.ok) throw new Error("passkey sign-in failed");
    const sessionId = passkey.sessionId;
    const audit = userContext(user, client());

    expect(await completeRequiredPasswordChange(user.id, sessionId, TEST_PASSWORD, audit)).toEqual({ ok: false, reason: "same_password" });
    expect(await findActiveSession(sessionId)).toMatchObject({ stage: "password_change_required" });

    expect(await completeRequiredPasswordChange(user.id, sessionId, NEW_PASSWORD, audit)).toEqual({ ok: true, endedSessions: 0 });
    const session = await findActiveSession(sessionId);
    expect(session).toMatchObject({ stage: "active" });
    expect(session!.expiresAt.getTime() - Date.now()).toBeGreaterThan(PENDING_MS);
    expect(await signedInUserId(sessionId)).toBe(user.id);
    expect(await findActiveSession(earlier)).toBeNull();
    expect((await db().user.findUniqueOrThrow({ where: { id: user.id } })).passwordResetRequiredAt).toBeNull();

    // Done once: a second submission finds nothing waiting.
    expect(await completeRequiredPasswordChange(user.id, sessionId, `${NEW_PASSWORD} again`, audit)).toEqual({ ok: false, reason: "not_pending" });

    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toEqual({ ok: false, reason: "invalid_credentials" });
    // The new password is accepted (the passkey makes it a second-factor sign-in).
    expect(await findActiveSession(await passwordSignIn(user.email, NEW_PASSWORD))).toMatchObject({ stage: "mfa_required" });

    const events = await db().auditEvent.findMany({ where: { action: "password.reset_completed" }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.type, e.outcome])).toEqual([["security", "failure"], ["security", "success"], ["security", "failure"]]);
    expect(events[0]!.metadata).toEqual({ reason: "same_password" });
    // No password, old or new, ever lands in the audit trail.
    const recorded = JSON.stringify(events.map((e) => e.metadata));
    expect(recorded).not.toContain(TEST_PASSWORD);
    expect(recorded).not.toContain(NEW_PASSWORD);
  });

  it("answers bad input with errors and never throws", async () => {
    const short = newPasswordPairSchema.safeParse({ newPassword: "too short", confirmPassword: "too short" });
    expect(short.success).toBe(false);
    expect(short.error?.issues.map((i) => i.path.join("."))).toEqual(["newPassword"]);

    const mismatched = newPasswordPairSchema.safeParse({ newPassword: NEW_PASSWORD, confirmPassword: `${NEW_PASSWORD}!` });
    expect(mismatched.success).toBe(false);
    expect(mismatched.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["confirmPassword", "The two new passwords differ."]]);

    for (const input of [null, {}, { newPassword: 42, confirmPassword: 42 }, { newPassword: "p".repeat(10_000), confirmPassword: "p".repeat(10_000) }]) {
      expect(newPasswordPairSchema.safeParse(input).success).toBe(false);
    }

    const user = await flaggedUser();
    const sessionId = await passwordSignIn(user.email);
    const audit = userContext(user, client());
    await expect(completeRequiredPasswordChange(user.id, sessionId, "short", audit)).resolves.toEqual({ ok: false, reason: "invalid_password" });
    await expect(completeRequiredPasswordChange(user.id, sessionId, "p".repeat(10_000), audit)).resolves.toEqual({ ok: false, reason: "invalid_password" });
    expect(await findActiveSession(sessionId)).toMatchObject({ stage: "password_change_required" });
  });

  it("only the user's own session waiting for the change can complete it", async () => {
    const user = await flaggedUser();
    const sessionId = await passwordSignIn(user.email);
    const mallory = await makeUser();
    const mallorysSession = await passwordSignIn(mallory.email);
    const audit = userContext(mallory, client());

    // Another user's pending session, and an active session, are both refused.
    expect(await completeRequiredPasswordChange(mallory.id, sessionId, NEW_PASSWORD, audit)).toEqual({ ok: false, reason: "not_pending" });
    expect(await completeRequiredPasswordChange(mallory.id, mallorysSession, NEW_PASSWORD, audit)).toEqual({ ok: false, reason: "not_pending" });
    expect(await findActiveSession(sessionId)).toMatchObject({ stage: "password_change_required" });

    // An expired pending session is refused too.
    const later = new Date(Date.now() + PENDING_MS + 1_000);
    expect(await completeRequiredPasswordChange(user.id, sessionId, NEW_PASSWORD, userContext(user, client()), later)).toEqual({ ok: false, reason: "not_pending" });
    expect((await db().user.findUniqueOrThrow({ where: { id: user.id } })).passwordResetRequiredAt).not.toBeNull();
  });
});

describe("the new-password form", () => {
  const pendingFrom = async (sessionId: string): Promise<PendingSignIn> => {
    const row = (await findActiveSession(sessionId))!;
    if (row.stage === "active") throw new Error("not pending");
    return { ...asUser({ ...row.user, groups: [] }, sessionId), stage: row.stage, requiredFactor: "any" };
  };

  it("shows field errors for bad input, never throws, and then lets the user in", async () => {
    const user = await flaggedUser();
    const sessionId = await passwordSignIn(user.email);
    pendingNow = await pendingFrom(sessionId);

    const short = await chooseNewPasswordAction({}, form({ newPassword: "too short", confirmPassword: "too short" }));
    expect(short).toMatchObject({ ok: false, fieldErrors: { newPassword: ["Use at least 12 characters."] } });
    const mismatched = await chooseNewPasswordAction({}, form({ newPassword: NEW_PASSWORD, confirmPassword: "something else entirely" }));
    expect(mismatched).toMatchObject({ ok: false, fieldErrors: { confirmPassword: ["The two new passwords differ."] } });
    expect(mismatched.values).toEqual({}); // passwords are never echoed back
    const garbled = await chooseNewPasswordAction({}, form({ newPassword: [NEW_PASSWORD, NEW_PASSWORD], confirmPassword: "x".repeat(5_000) }));
    expect(garbled).toMatchObject({ ok: false, fieldErrors: expect.objectContaining({ newPassword: expect.any(Array) }) });
    const same = await chooseNewPasswordAction({}, form({ newPassword: TEST_PASSWORD, confirmPassword: TEST_PASSWORD }));
    expect(same).toMatchObject({ ok: false, fieldErrors: { newPassword: ["Choose a password different from your current one."] } });
    expect(await findActiveSession(sessionId)).toMatchObject({ stage: "password_change_required" });

    const done = await chooseNewPasswordAction({}, form({ newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD, callbackUrl: "//evil.example/x" }));
    expect(done).toEqual({ ok: true, data: { redirectTo: "/account" } });
    expect(await signedInUserId(sessionId)).toBe(user.id);
  });

  it("cannot be used to skip the MFA step, nor without a pending sign-in", async () => {
    const { user } = await withTotp();
    await requirePasswordReset(user.id, "INC-4", ctx);
    const sessionId = await passwordSignIn(user.email);
    const fields = form({ newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });

    pendingNow = await pendingFrom(sessionId); // still owes the MFA step
    expect(await chooseNewPasswordAction({}, fields)).toMatchObject({ ok: false, message: "This sign-in has expired. Sign in again." });
    pendingNow = null;
    expect(await chooseNewPasswordAction({}, fields)).toMatchObject({ ok: false, message: "This sign-in has expired. Sign in again." });
    expect(await findActiveSession(sessionId)).toMatchObject({ stage: "mfa_required" });
    expect((await db().user.findUniqueOrThrow({ where: { id: user.id } })).passwordResetRequiredAt).not.toBeNull();
  });
});
