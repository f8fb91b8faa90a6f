"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { afterFactorEnrolled, guardedAction } from "@/lib/auth";
import { revokeDeviceTrust } from "@/lib/devices";
import { formatWait } from "@/lib/util/format";
import { parseJsonOrNull } from "@/lib/util/json";
import {
  confirmTotpEnrollment, generateBackupCodes, NoSecondFactorError, passkeyNameSchema, passkeyRegistrationOptions, registerPasskey,
  removeFactor, renamePasskey, startTotpEnrollment,
} from "@/lib/mfa";

// Enrolling factors works for a signed-in user and for one whose sign-in waits for enrollment
// ("account-setup"); everything else here needs a full session. Adding a factor and removing one
// need step-up: a user who has a factor proves it first (one without has nothing to prove it with).
// For adding, the step-up is asked at the start, which alone hands out what the finish needs (the
// TOTP secret, the passkey challenge, both bound to the user and short-lived): asked again at the
// finish, a slow setup would lose the app entry or passkey just made.

const SECURITY_PAGE = "/account/security";

// Fresh backup codes stay on screen until the user confirms they saved them (the list then
// refreshes the page); refreshing now would re-render them away.
function refreshUnlessShowingCodes(backupCodes: string[] | null) {
  if (!backupCodes) revalidatePath(SECURITY_PAGE);
}

export const startTotpEnrollmentAction = guardedAction("account-setup", z.object({}), async (_input, user) => {
  const enrollment = await startTotpEnrollment(user);
  if ("error" in enrollment) return { ok: false, message: enrollment.error };
  return { ok: true, data: enrollment };
}, { stepUp: true });

export const confirmTotpEnrollmentAction = guardedAction("account-setup", z.object({ code: z.string().trim().max(32) }), async ({ code }, user, ctx) => {
  const check = await confirmTotpEnrollment(user.id, code, ctx, user.sessionId);
  if (!check.ok) {
    const message = check.reason === "not_enrolled" ? "This setup has expired (or was replaced): start it again."
      : check.reason === "locked" ? `Too many wrong codes. Try again in ${formatWait(check.retryAfterSeconds)}.`
      : "That code is not valid. Enter the current code from the app.";
    return { ok: false, fieldErrors: { code: [message] } };
  }
  const { backupCodes } = await afterFactorEnrolled(user, ctx);
  refreshUnlessShowingCodes(backupCodes);
  return { ok: true, message: "Authenticator app set up.", data: { backupCodes } };
});

export const passkeyRegistrationOptionsAction = guardedAction("account-setup", z.object({}), async (_input, user) => {
  return { ok: true, data: await passkeyRegistrationOptions(user) };
}, { stepUp: true });

const registerForm = z.object({ challengeId: z.string().max(64), response: z.string().max(20_000), name: passkeyNameSchema });

export const registerPasskeyAction = guardedAction("account-setup", registerForm, async (form, user, ctx) => {
  const response = parseJsonOrNull(form.response);
  if (!response) return { ok: false, message: "The passkey response was malformed." };
  const result = await registerPasskey(user.id, { challengeId: form.challengeId, response, name: form.name }, ctx);
  if (!result.ok) return result;
  const { backupCodes } = await afterFactorEnrolled(user, ctx);
  refreshUnlessShowingCodes(backupCodes);
  return { ok: true, message: `Passkey “${result.passkey.name}” added.`, data: { backupCodes } };
});

export const renamePasskeyAction = guardedAction("signed-in", z.object({ passkeyId: z.uuid(), name: passkeyNameSchema }), async ({ passkeyId, name }, user, ctx) => {
  const renamed = await renamePasskey(user.id, passkeyId, name, ctx);
  revalidatePath(SECURITY_PAGE);
  return renamed ? { ok: true, message: "Passkey renamed." } : { ok: false, message: "That passkey does not exist." };
});

export const removePasskeyAction = guardedAction(
  "signed-in",
  z.object({ passkeyId: z.uuid() }),
  async ({ passkeyId }, user, ctx) => {
    const result = await removeFactor(user, { kind: "passkey", passkeyId }, ctx);
    revalidatePath(SECURITY_PAGE);
    return result.ok ? { ok: true, message: "Passkey removed." } : result;
  },
  { stepUp: true },
);

export const removeTotpAction = guardedAction(
  "signed-in",
  z.object({}),
  async (_input, user, ctx) => {
    const result = await removeFactor(user, { kind: "totp" }, ctx);
    revalidatePath(SECURITY_PAGE);
    return result.ok ? { ok: true, message: "Authenticator app removed." } : result;
  },
  { stepUp: true },
);

export const regenerateBackupCodesAction = guardedAction(
  "signed-in",
  z.object({}),
  async (_input, user, ctx) => {
    let codes: string[];
    try {
      codes = await generateBackupCodes(user.id, ctx);
    } catch (error) {
      if (error instanceof NoSecondFactorError) return { ok: false, message: error.message };
      throw error;
    }
    revalidatePath(SECURITY_PAGE);
    return { ok: true, message: "New backup codes generated. The old ones no longer work.", data: { backupCodes: codes } };
  },
  { stepUp: true },
);

export const revokeDeviceTrustAction = guardedAction("signed-in", z.object({ deviceId: z.uuid().optional() }), async ({ deviceId }, user, ctx) => {
  // Scoped by user: another user's device id matches nothing.
  const count = await revokeDeviceTrust(user.id, deviceId ?? null, ctx);
  revalidatePath(SECURITY_PAGE);
  if (!count) return { ok: false, message: "No trusted device to forget." };
  return { ok: true, message: count === 1 ? "The device will ask for a second factor again." : `${count} devices will ask for a second factor again.` };
});
