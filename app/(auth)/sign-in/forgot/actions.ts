"use server";
import { guardedAction, recoveryRequestSchema, requestPasswordRecovery } from "@/lib/auth";

// The same answer whether or not the address has an account, and the mail goes out after it.
export const requestRecoveryAction = guardedAction("public", recoveryRequestSchema, async ({ email }, _user, ctx) => {
  await requestPasswordRecovery(email, ctx);
  return { ok: true, message: `If ${email} has a Gatehouse account, a link to choose a new password is on its way. It works once, for 30 minutes.` };
});
