"use server";
import { AuthError } from "next-auth";
import { z } from "zod";
import { guardedAction, leaveTo, passkeySignInSchema, signIn, ThrottledSignIn } from "@/lib/auth";
import { passkeyAuthenticationOptions } from "@/lib/mfa";
import { bumpCounter } from "@/lib/rate-limit/counters";
import { formatWait, safeReturnPath } from "@/lib/util/format";

// One message for every failure, so the form never tells whether an account exists.
const GENERIC_FAILURE = "That email and password do not match an active account.";

const signInForm = z.object({
  email: z.string().max(1000),
  password: z.string().max(1000),
  callbackUrl: z.string().max(2000).optional(),
});

export const signInAction = guardedAction("public", signInForm, async ({ email, password, callbackUrl }) => {
  try {
    await signIn("credentials", { email, password, redirect: false });
  } catch (error) {
    if (error instanceof ThrottledSignIn) {
      return { ok: false, message: `Too many sign-in attempts. Try again in ${formatWait(error.retryAfterSeconds)}.` };
    }
    if (error instanceof AuthError) return { ok: false, message: GENERIC_FAILURE };
    throw error;
  }
  return leaveTo(safeReturnPath(callbackUrl));
});

// Each request for passkey options stores a challenge: bounded per IP so nobody can fill the table.
const OPTIONS_PER_IP_PER_MINUTE = 30;

export const passkeySignInOptionsAction = guardedAction("public", z.object({}), async (_input, _user, ctx) => {
  const { count } = await bumpCounter(`webauthn:ip:${ctx.client?.ip ?? "unknown"}`, 60_000);
  if (count > OPTIONS_PER_IP_PER_MINUTE) return { ok: false, message: "Too many passkey requests. Wait a minute and try again." };
  return { ok: true, data: await passkeyAuthenticationOptions(null) };
});

export const passkeySignInAction = guardedAction(
  "public",
  passkeySignInSchema.extend({ callbackUrl: z.string().max(2000).optional() }),
  async ({ challengeId, response, callbackUrl }) => {
    try {
      await signIn("passkey", { challengeId, response, redirect: false });
    } catch (error) {
      if (error instanceof AuthError) return { ok: false, message: "That passkey could not sign you in. Try again, or use your password." };
      throw error;
    }
    return leaveTo(safeReturnPath(callbackUrl));
  },
);
