"use server";
import { AuthError } from "next-auth";
import { z } from "zod";
import { guardedAction, leaveTo, passkeySignInSchema, recoveryAvailable, RefusedSignIn, signIn, ThrottledSignIn } from "@/lib/auth";
import { passkeyOptionsForAddress, TOO_MANY_CEREMONIES } from "@/lib/mfa";
import { formatWait, safeReturnPath } from "@/lib/util/format";

// One message for every failure, so the form never tells whether an account exists. An empty field
// is the form's own business (it says nothing about any account) and never reaches the sign-in.
const GENERIC_FAILURE = "That email and password do not match an active account.";

const signInForm = z.object({
  email: z.string().max(1000).refine((email) => email.trim() !== "", "Enter your email."),
  password: z.string().min(1, "Enter your password.").max(1000),
  callbackUrl: z.string().max(2000).optional(),
});

export const signInAction = guardedAction("public", signInForm, async ({ email, password, callbackUrl }) => {
  try {
    await signIn("credentials", { email, password, redirect: false });
  } catch (error) {
    if (error instanceof ThrottledSignIn) {
      return { ok: false, message: `Too many sign-in attempts. Try again in ${formatWait(error.retryAfterSeconds)}.` };
    }
    if (error instanceof RefusedSignIn) return { ok: false, message: refusalMessage(error) };
    if (error instanceof AuthError) return { ok: false, message: GENERIC_FAILURE };
    throw error;
  }
  return leaveTo(safeReturnPath(callbackUrl));
});

function refusalMessage({ refusal, retryAfterSeconds }: RefusedSignIn): string {
  switch (refusal) {
    case "source_blocked":
      return "Sign-in from your network is blocked for now. Try again later, from another network, or contact your administrator.";
    case "risk_blocked":
      return retryAfterSeconds
        ? `This sign-in looked too risky and was blocked. Your account is locked for ${formatWait(retryAfterSeconds)}; if this was you, contact your administrator.`
        : "This sign-in looked too risky and was blocked. If this was you, sign in from a device and network you have used before, or contact your administrator.";
    case "account_locked":
      return `Your account is locked for ${formatWait(retryAfterSeconds ?? 0)}. If you did not expect this, contact your administrator.`;
    case "passkey_unavailable":
      return "This sign-in needs a passkey, and your account has none. Sign in from a device and place you have used before, or ask your administrator.";
    case "second_factor_unavailable":
      return "This sign-in needs a second factor, and your account has none. Sign in from a device and place you have used before, or ask your administrator.";
    case "password_distrusted":
      // Said only to someone who typed the right password: it tells nothing to anyone else.
      return recoveryAvailable()
        ? "Your password must be replaced: it may be known to someone else. A link to choose a new one is on its way to your email address (a few an hour at most: if none comes, use the latest, or ask your administrator)."
        : "Your password must be replaced: it may be known to someone else. Ask your administrator for a temporary password.";
  }
}

export const passkeySignInOptionsAction = guardedAction("public", z.object({}), async (_input, _user, ctx) => {
  const options = await passkeyOptionsForAddress(ctx.client?.ip ?? null);
  return options ? { ok: true, data: options } : { ok: false, message: TOO_MANY_CEREMONIES };
});

export const passkeySignInAction = guardedAction(
  "public",
  passkeySignInSchema.extend({ callbackUrl: z.string().max(2000).optional() }),
  async ({ challengeId, response, callbackUrl }) => {
    try {
      await signIn("passkey", { challengeId, response, redirect: false });
    } catch (error) {
      if (error instanceof ThrottledSignIn) return { ok: false, message: `Too many sign-in attempts from your network. Try again in ${formatWait(error.retryAfterSeconds)}.` };
      if (error instanceof RefusedSignIn) return { ok: false, message: refusalMessage(error) };
      if (error instanceof AuthError) return { ok: false, message: "That passkey could not sign you in. Try again, or use your password." };
      throw error;
    }
    return leaveTo(safeReturnPath(callbackUrl));
  },
);
