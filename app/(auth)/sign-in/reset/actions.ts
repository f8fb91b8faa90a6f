"use server";
import { z } from "zod";
import { guardedAction, newPasswordPairSchema, resetPasswordWithLink } from "@/lib/auth";

const resetForm = newPasswordPairSchema.safeExtend({ token: z.string().min(1).max(200) });

export const resetPasswordAction = guardedAction("public", resetForm, async ({ token, newPassword }, _user, ctx) => {
  const result = await resetPasswordWithLink(token, newPassword, ctx);
  if (result.ok) return { ok: true, message: "Your password is changed and every session is signed out. Sign in with the new password." };
  switch (result.reason) {
    case "invalid_link":
      return { ok: false, message: "This link is not valid any more (it works once, for 30 minutes). Ask for a new one." };
    case "same_password":
      return { ok: false, message: "Check the highlighted fields.", fieldErrors: { newPassword: ["Choose a password different from your current one."] } };
    case "too_many":
      return { ok: false, message: "Too many attempts from your network. Try again in an hour." };
    case "unacceptable_password":
      return { ok: false, message: "Check the highlighted fields.", fieldErrors: { newPassword: [result.message] } };
    case "invalid_password":
      return { ok: false, message: "Check the highlighted fields.", fieldErrors: { newPassword: ["This password does not meet the rules."] } };
  }
});
