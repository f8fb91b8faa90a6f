import { beforeEach, describe, expect, it, vi } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { findActiveSession } from "@/lib/auth/sessions";
import { completeMfaStep } from "@/lib/auth/mfa-step";
import { reauthenticateWithPassword } from "@/lib/auth/reauthenticate";
import { resetUserMfa } from "@/lib/auth/users";
import { toCurrentUser, type CurrentUser } from "@/lib/auth/session-user";
import { authStrength } from "@/lib/policy/pdp";
import type { passkeyRegistrationOptions } from "@/lib/mfa";
import type { ActionState } from "@/lib/auth/action";
import { resetDatabase } from "../support/db";
import { codeAt, withTotp } from "../support/mfa";
import { SoftAuthenticator } from "../support/soft-authenticator";
import { TEST_PASSWORD, client, ctx, makeUser } from "../support/factories";
import { formData as form } from "../support/forms";

// Adding a factor is a sensitive change, and enrolling one is not signing in with it: the server
// actions run for real with the request's session swapped in (the cookie is what a test cannot have).

let signedIn: CurrentUser | null = null;
vi.mock("@/lib/auth/current", async (importOriginal) => ({ ...(await importOriginal<object>()), currentUser: async () => signedIn, currentPendingSignIn: async () => null }));
vi.mock("@/lib/auth/next-auth", () => ({ auth: async () => null, signIn: async () => undefined, signOut: async () => undefined, handlers: {}, ThrottledSignIn: class {}, RefusedSignIn: class {} }));
vi.mock("@/lib/http/request-context", () => ({ requestContext: async () => client(), requestPath: async () => "/" }));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));
const { passkeyRegistrationOptionsAction, registerPasskeyAction } = await import("@/app/account/security/mfa-actions");

beforeEach(async () => {
  signedIn = null;
  await resetDatabase();
});

/** The request's user as lib/auth/current.ts makes it from the session row. */
const asCurrentUser = async (sessionId: string): Promise<CurrentUser> => toCurrentUser((await findActiveSession(sessionId))!);

async function passwordSignIn(email: string): Promise<string> {
  const result = await signInWithPassword({ email, password: TEST_PASSWORD }, client(), null);
  if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
  return result.sessionId;
}

/** A scripted authenticator's registration for a challenge the page asked for. */
const registration = ({ challengeId, options }: Awaited<ReturnType<typeof passkeyRegistrationOptions>>) =>
  form({ challengeId, response: JSON.stringify(new SoftAuthenticator().register(options)), name: "Attacker key" });

/** Adds a passkey as the page does (a challenge, a scripted authenticator, the registration): all an attacker holding only the session could do. */
async function addPasskey(): Promise<ActionState> {
  const started = await passkeyRegistrationOptionsAction({}, form({}));
  if (!started.ok) return started;
  return registerPasskeyAction({}, registration(started.data as Awaited<ReturnType<typeof passkeyRegistrationOptions>>));
}

describe("adding a factor", () => {
  it("needs a fresh MFA check from a user who has a factor, and does not count as one", async () => {
    const { user, secret } = await withTotp();
    const sessionId = await passwordSignIn(user.email);
    const pending = { ...(await asCurrentUser(sessionId)), stage: "mfa_required" as const, requiredFactor: "any" as const };
    expect(await completeMfaStep(pending, { method: "totp", code: await codeAt(secret, new Date()) }, false, ctx)).toMatchObject({ ok: true });

    // The MFA check was 10 minutes ago: a stolen session cookie of this age cannot add a passkey.
    await db().session.update({ where: { id: sessionId }, data: { mfaVerifiedAt: new Date(Date.now() - 10 * 60_000) } });
    signedIn = await asCurrentUser(sessionId);
    expect(await addPasskey()).toMatchObject({ ok: false, stepUp: true });
    expect(await db().passkey.count({ where: { userId: user.id } })).toBe(0);

    // Just verified: the passkey is added, and the session's methods and MFA time are unchanged.
    const verifiedAt = new Date(Date.now() - 60_000);
    await db().session.update({ where: { id: sessionId }, data: { mfaVerifiedAt: verifiedAt } });
    signedIn = await asCurrentUser(sessionId);
    expect(await addPasskey()).toMatchObject({ ok: true });
    const session = (await findActiveSession(sessionId))!;
    expect(session.authMethods).toEqual(["password", "totp"]);
    expect(session.mfaVerifiedAt).toEqual(verifiedAt);
    expect(authStrength(session.authMethods)).toBe("mfa");

    // Started while the check was fresh, finished once it no longer is (a slow authenticator):
    // the start asked for it, so the passkey just made is kept rather than refused.
    const started = await passkeyRegistrationOptionsAction({}, form({}));
    await db().session.update({ where: { id: sessionId }, data: { mfaVerifiedAt: new Date(Date.now() - 10 * 60_000) } });
    signedIn = await asCurrentUser(sessionId);
    expect(await registerPasskeyAction({}, registration(started.data as Awaited<ReturnType<typeof passkeyRegistrationOptions>>))).toMatchObject({ ok: true });
    expect(await db().passkey.count({ where: { userId: user.id } })).toBe(2);
  });

  it("works without step-up for a first factor, and leaves a password session a password session", async () => {
    const user = await makeUser();
    const sessionId = await passwordSignIn(user.email);
    signedIn = await asCurrentUser(sessionId);
    const added = await addPasskey();
    expect(added).toMatchObject({ ok: true, data: { backupCodes: expect.any(Array) } });
    const session = (await findActiveSession(sessionId))!;
    expect(session.authMethods).toEqual(["password"]);
    expect(session.mfaVerifiedAt).toBeNull();
    expect(authStrength(session.authMethods)).toBe("password");

    // Now that the user has a factor, the next one needs it proved first.
    signedIn = await asCurrentUser(sessionId);
    expect(await addPasskey()).toMatchObject({ ok: false, stepUp: true });
  });

  it("from a user with no factor, needs the password from the last few minutes: a stolen older session cannot enroll its own", async () => {
    const user = await makeUser();
    const sessionId = await passwordSignIn(user.email);
    await db().session.update({ where: { id: sessionId }, data: { passwordVerifiedAt: new Date(Date.now() - 10 * 60_000) } });
    signedIn = await asCurrentUser(sessionId);
    expect(await addPasskey()).toMatchObject({ ok: false, stepUp: true });
    expect(await db().passkey.count({ where: { userId: user.id } })).toBe(0);

    expect(await reauthenticateWithPassword(signedIn, "not the password", ctx)).toEqual({ ok: false, reason: "wrong_password" });
    expect(await reauthenticateWithPassword(signedIn, TEST_PASSWORD, ctx)).toEqual({ ok: true });
    signedIn = await asCurrentUser(sessionId);
    expect(await addPasskey()).toMatchObject({ ok: true });
    const outcomes = (await db().auditEvent.findMany({ where: { action: "session.reauthenticate" }, orderBy: { seq: "asc" } })).map((e) => e.outcome);
    expect(outcomes).toEqual(["failure", "success"]);
  });
});

describe("an MFA reset", () => {
  it("signs the user out everywhere, so no open session is left with nothing to prove", async () => {
    const { user } = await withTotp();
    const sessionId = await passwordSignIn(user.email);
    expect(await resetUserMfa(user.id, "Lost phone, identity checked on a video call", ctx)).toBe(1);
    expect(await findActiveSession(sessionId)).toBeNull();
    expect(await db().session.findUnique({ where: { id: sessionId }, select: { endReason: true } })).toEqual({ endReason: "mfa_reset" });
    expect(await db().totpFactor.count({ where: { userId: user.id } })).toBe(0);
  });
});
