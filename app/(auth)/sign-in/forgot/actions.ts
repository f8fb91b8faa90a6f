"use server";
import { after } from "next/server";
import { guardedAction, recoveryRequestSchema, requestPasswordRecovery } from "@/lib/auth";

// The same answer whether or not the address has an account; the lookup, the link and the mail
// happen after the answer has gone out, so its timing tells nothing either.
export const requestRecoveryAction = guardedAction("public", recoveryRequestSchema, async ({ email }, _user, ctx) => {
  after(async () => {
    try {
      await (await requestPasswordRecovery(email, ctx)).delivery;
    } catch (error) {
      console.error("Password recovery request failed:", error instanceof Error ? error.message : error);
    }
  });
  return { ok: true, message: `If ${email} has a Gatehouse account, a link to choose a new password is on its way. It works once, for 30 minutes.` };
});
