"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { after } from "next/server";
import {
  changePassword, endAllSessions, endSession, guardedAction, hasFreshMfa, nameSchema, newPasswordPairSchema, passwordRefused, reportUnrecognizedSignIn, sendEmailVerification, updateName,
} from "@/lib/auth";

export const updateProfileAction = guardedAction("signed-in", z.object({ name: nameSchema }), async ({ name }, user, ctx) => {
  await updateName(user.id, name, ctx);
  revalidatePath("/account");
  return { ok: true, message: "Profile saved." };
});

export const sendEmailVerificationAction = guardedAction("signed-in", z.object({}), async (_input, user, ctx) => {
  const result = await sendEmailVerification(user.id, ctx);
  if (result.ok) {
    // Mailed after the answer: a slow mail server does not hold the page.
    after(() => result.delivery);
    return { ok: true, message: `A link is on its way to ${result.email}. Open it within 24 hours to confirm the address.` };
  }
  revalidatePath("/account");
  switch (result.reason) {
    case "already_verified":
      return { ok: false, message: "Your address is verified already." };
    case "no_mail":
      return { ok: false, message: "Gatehouse cannot send mail here (no mail server is set up): ask your administrator." };
    case "too_many":
      return { ok: false, message: "Several links were sent in the last hour: use the latest one, or try again later." };
    case "no_account":
      return { ok: false, message: "Your account cannot receive links." };
  }
});

const passwordForm = newPasswordPairSchema.safeExtend({
  currentPassword: z.string().min(1, "Enter your current password.").max(1000),
  disconnectApps: z.literal("on").optional(),
});

export const changePasswordAction = guardedAction(
  "signed-in",
  passwordForm,
  async (form, user, ctx) => {
    const disconnectApps = form.disconnectApps === "on";
    const result = await changePassword(user, form.currentPassword, form.newPassword, ctx, { disconnectApps, factorVerified: hasFreshMfa(user) });
    if (!result.ok && result.reason === "unacceptable_password") return { ok: false, fieldErrors: { newPassword: [result.message] } };
    if (!result.ok && result.reason === "same_password") return { ok: false, fieldErrors: { newPassword: ["Choose a password different from your current one."] } };
    if (!result.ok) return passwordRefused(result, "currentPassword", "That is not your current password.");
    revalidatePath("/account/security");
    revalidatePath("/account/apps");
    const others = result.endedSessions === 1 ? "1 other session was" : `${result.endedSessions} other sessions were`;
    return { ok: true, message: `Password changed. ${others} signed out.${disconnectApps ? " Every app you had let in was disconnected." : ""}` };
  },
  // The form asks for the current password: only a user with a second factor must also step up.
  { stepUp: "second-factor-only" },
);

export const revokeSessionAction = guardedAction("signed-in", z.object({ sessionId: z.uuid() }), async ({ sessionId }, user, ctx) => {
  // endSession is scoped to the caller's own sessions: another user's id simply matches nothing.
  const ended = await endSession(user.id, sessionId, "revoked_by_user", ctx);
  revalidatePath("/account/security");
  return ended ? { ok: true, message: "Session signed out." } : { ok: false, message: "That session is not active." };
});

export const revokeOtherSessionsAction = guardedAction("signed-in", z.object({}), async (_input, user, ctx) => {
  const count = await endAllSessions(user.id, "revoked_by_user", ctx, user.sessionId);
  revalidatePath("/account/security");
  return { ok: true, message: count === 1 ? "1 other session signed out." : `${count} other sessions signed out.` };
});

export const reportSignInAction = guardedAction("signed-in", z.object({ attemptId: z.uuid() }), async ({ attemptId }, user, ctx) => {
  // Scoped to the caller's own attempts inside lib/risk: another user's id matches nothing.
  const result = await reportUnrecognizedSignIn(user.id, attemptId, ctx);
  revalidatePath("/account/security");
  if (!result) return { ok: false, message: "That sign-in is not in your activity." };
  if (result.alreadyReported) return { ok: true, message: "You reported this sign-in already; your security team has it." };
  // Told at the top of the page: the row's button is gone once the page shows it reported.
  redirect(`/account/security?reported=${result.sessionEnded ? "signed-out" : "noted"}`);
});
