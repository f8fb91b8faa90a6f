import "server-only";
import { db } from "../db/client";
import type { AuditContext } from "../audit/context";
import { trustDevice } from "../devices";
import { generateBackupCodes, remainingBackupCodes, verifySecondFactor, type SecondFactorProof } from "../mfa";
import type { CurrentUser, PendingSignIn } from "./current";
import { activateSession, markMfaVerified, type AuthenticatedStage } from "./sessions";

// The second half of a sign-in (the MFA step), step-up for sensitive actions, and what happens
// once a first factor is enrolled. lib/mfa checks the factor; this file moves the session on.

export type StepResult = { ok: true } | { ok: false; message: string };

const SIGN_IN_ENDED = "This sign-in has ended. Sign in again.";

/** `stage` says where the sign-in goes next: the app, or the new password an administrator required. */
export async function completeMfaStep(
  pending: PendingSignIn,
  proof: SecondFactorProof,
  rememberDevice: boolean,
  ctx: AuditContext,
): Promise<{ ok: true; stage: AuthenticatedStage } | { ok: false; message: string }> {
  // Ended meanwhile (an account lock): checked first, so a backup code is not spent on it.
  if (!(await db().session.count({ where: { id: pending.sessionId, endedAt: null } }))) return { ok: false, message: SIGN_IN_ENDED };
  const result = await verifySecondFactor(pending.id, proof, ctx, pending.requiredFactor);
  if (!result.ok) return result;
  const stage = await activateSession(pending.sessionId, result.method);
  if (!stage) return { ok: false, message: SIGN_IN_ENDED };
  // The sign-in is done (and its cookie's generation spent): a device that cannot be remembered
  // now must not cost it, so a failure here is logged, not thrown.
  if (rememberDevice) await rememberSignInDevice(pending, ctx).catch((error: unknown) => console.error("[auth] device not remembered:", error instanceof Error ? error.message : error));
  return { ok: true, stage };
}

async function rememberSignInDevice(pending: PendingSignIn, ctx: AuditContext) {
  const session = await db().session.findUnique({ where: { id: pending.sessionId }, select: { deviceId: true } });
  if (session?.deviceId) await trustDevice(pending.id, session.deviceId, ctx);
}

export async function stepUp(user: CurrentUser, proof: SecondFactorProof, ctx: AuditContext): Promise<StepResult> {
  const result = await verifySecondFactor(user.id, proof, ctx);
  if (!result.ok) return result;
  await markMfaVerified(user.sessionId, result.method);
  return { ok: true };
}

/**
 * After a factor is enrolled: a sign-in that was waiting for enrollment becomes active, and a
 * first factor comes with backup codes, returned here to be shown once. Enrolling is not signing
 * in with the factor (it proves only that the new authenticator works), so the session's
 * methods and its MFA time stay as they were: otherwise a stolen password-only session could add
 * its own passkey and pass every step-up and "phishing-resistant" policy.
 */
export async function afterFactorEnrolled(user: CurrentUser, ctx: AuditContext): Promise<{ backupCodes: string[] | null }> {
  const session = await db().session.findUnique({ where: { id: user.sessionId }, select: { stage: true } });
  // A sign-in ended while it enrolled (an account lock) gets no codes here: the user regenerates them once signed in.
  if (session?.stage === "enrollment_required" && !(await activateSession(user.sessionId, null))) return { backupCodes: null };
  const backupCodes = (await remainingBackupCodes(user.id)) === 0 ? await generateBackupCodes(user.id, ctx) : null;
  return { backupCodes };
}
