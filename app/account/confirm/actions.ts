"use server";
import { z } from "zod";
import { guardedAction, leaveTo, passwordRefused, reauthenticateWithPassword, stepUp } from "@/lib/auth";
import { passkeyOptionsForSession, secondFactorProofSchema, TOO_MANY_CEREMONIES } from "@/lib/mfa";
import { safeReturnPath } from "@/lib/util/format";

const stepUpForm = z.object({ callbackUrl: z.string().max(2000).optional() }).and(secondFactorProofSchema);

export const stepUpAction = guardedAction("signed-in", stepUpForm, async (form, user, ctx) => {
  const result = await stepUp(user, form, ctx);
  if (!result.ok) return result;
  return leaveTo(safeReturnPath(form.callbackUrl, "/account/security"));
});

export const stepUpPasskeyOptionsAction = guardedAction("signed-in", z.object({}), async (_input, user) => {
  const options = await passkeyOptionsForSession(user);
  return options ? { ok: true, data: options } : { ok: false, message: TOO_MANY_CEREMONIES };
});

const passwordForm = z.object({ callbackUrl: z.string().max(2000).optional(), password: z.string().min(1, "Enter your password.").max(1000) });

export const confirmPasswordAction = guardedAction("signed-in", passwordForm, async (form, user, ctx) => {
  const result = await reauthenticateWithPassword(user, form.password, ctx);
  if (!result.ok) return passwordRefused(result, "password", "That is not your password.");
  return leaveTo(safeReturnPath(form.callbackUrl, "/account/security"));
});
