"use server";
import { z } from "zod";
import { completeRequiredPasswordChange, currentPendingSignIn, guardedAction, leaveTo, newPasswordPairSchema } from "@/lib/auth";
import { userContext } from "@/lib/audit";
import { safeReturnPath } from "@/lib/util/format";

const EXPIRED = { ok: false, message: "This sign-in has expired. Sign in again." } as const;

const newPasswordForm = newPasswordPairSchema.safeExtend({ callbackUrl: z.string().max(2000).optional() });

// Only a sign-in waiting in the password_change_required stage may use this; the session itself
// (first factor and any MFA step already passed) is the proof, so the old password is not asked.
export const chooseNewPasswordAction = guardedAction("public", newPasswordForm, async ({ newPassword, callbackUrl }, _user, ctx) => {
  const pending = await currentPendingSignIn();
  if (pending?.stage !== "password_change_required") return EXPIRED;
  const result = await completeRequiredPasswordChange(pending.id, pending.sessionId, newPassword, userContext(pending, ctx.client));
  if (result.ok) return leaveTo(safeReturnPath(callbackUrl));
  switch (result.reason) {
    case "same_password":
      return { ok: false, fieldErrors: { newPassword: ["Choose a password different from your current one."] } };
    case "invalid_password":
      return { ok: false, message: "Check the highlighted fields.", fieldErrors: { newPassword: ["This password does not meet the rules."] } };
    case "unacceptable_password":
      return { ok: false, fieldErrors: { newPassword: [result.message] } };
    case "not_pending":
      return EXPIRED;
  }
});
