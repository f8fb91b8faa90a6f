import { beforeEach, describe, expect, it, vi } from "vitest";
import { CredentialsSignin } from "next-auth";
import { db } from "@/lib/db/client";
import { resetDatabase } from "../support/db";
import { TEST_PASSWORD, client, makeUser, uniqueEmail } from "../support/factories";

// The sign-in form's action runs for real down to the password pipeline. next-auth needs Next's
// request and cookies, so its signIn is replaced by a direct call to that pipeline that fails the
// way next-auth does (a CredentialsSignin, which is an AuthError) when the pipeline refuses.
vi.mock("next-auth", () => {
  class AuthError extends Error {}
  class CredentialsSignin extends AuthError {}
  return { AuthError, CredentialsSignin };
});
vi.mock("@/lib/auth/current", () => ({ currentUser: async () => null, currentPendingSignIn: async () => null, hasFreshMfa: () => false }));
vi.mock("@/lib/http/request-context", () => ({ requestContext: async () => client(), requestPath: async () => "/" }));
vi.mock("next/headers", () => ({ headers: async () => new Headers({ "next-action": "test" }) }));
vi.mock("@/lib/auth/next-auth", () => ({
  signIn: async (_provider: string, credentials: { email: string; password: string }) => {
    const { signInWithPassword } = await import("@/lib/auth/sign-in");
    const result = await signInWithPassword(credentials, client(), null);
    if (!result.ok) throw new CredentialsSignin();
  },
  signOut: async () => undefined, auth: async () => null, handlers: {}, ThrottledSignIn: class extends Error {}, RefusedSignIn: class extends Error {},
}));
const { signInAction } = await import("@/app/(auth)/sign-in/actions");

const submit = (email: string, password: string) => {
  const form = new FormData();
  form.append("email", email);
  form.append("password", password);
  return signInAction({}, form);
};

beforeEach(resetDatabase);

describe("the sign-in form", () => {
  it("asks for an empty email or password by field, before any sign-in is attempted", async () => {
    expect(await submit("", "")).toMatchObject({ ok: false, fieldErrors: { email: ["Enter your email."], password: ["Enter your password."] } });
    expect(await submit("   ", TEST_PASSWORD)).toMatchObject({ ok: false, fieldErrors: { email: ["Enter your email."] } });
    const onlyPassword = await submit("someone@example.test", "");
    expect(onlyPassword).toMatchObject({ ok: false, fieldErrors: { password: ["Enter your password."] }, values: { email: "someone@example.test" } });
    expect(onlyPassword.fieldErrors?.email).toBeUndefined();
    // Nothing reached the pipeline: no attempt recorded, nothing counted towards a lockout.
    expect(await db().loginAttempt.count()).toBe(0);
  });

  it("answers a wrong password and an unknown account alike", async () => {
    const user = await makeUser();
    const wrong = await submit(user.email, "not the password at all");
    const unknown = await submit(uniqueEmail("nobody"), "not the password at all");
    expect(wrong).toEqual({ ok: false, message: "That email and password do not match an active account.", values: { email: user.email } });
    expect({ ...unknown, values: undefined }).toEqual({ ...wrong, values: undefined });
    expect(await submit(user.email, TEST_PASSWORD)).toEqual({ ok: true, data: { redirectTo: "/account" } });
  });
});
