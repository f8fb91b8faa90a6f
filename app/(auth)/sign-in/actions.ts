"use server";
import { redirect } from "next/navigation";
import { AuthError } from "next-auth";
import { z } from "zod";
import { guardedAction, signIn, ThrottledSignIn } from "@/lib/auth";
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
  redirect(safeReturnPath(callbackUrl));
});
