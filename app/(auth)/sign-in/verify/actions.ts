"use server";
import { z } from "zod";
import { completeMfaStep, currentPendingSignIn, guardedAction, leaveTo, pendingStageUrl, renewSessionCookie } from "@/lib/auth";
import { userContext } from "@/lib/audit";
import { passkeyOptionsForSession, secondFactorProofSchema, TOO_MANY_CEREMONIES } from "@/lib/mfa";
import { safeReturnPath } from "@/lib/util/format";

const EXPIRED = { ok: false, message: "This sign-in has expired. Sign in again." } as const;

const mfaStepForm = z
  .object({ callbackUrl: z.string().max(2000).optional(), rememberDevice: z.literal("on").optional() })
  .and(secondFactorProofSchema);

export const verifyMfaStepAction = guardedAction("public", mfaStepForm, async (form, _user, ctx) => {
  const pending = await currentPendingSignIn();
  if (pending?.stage !== "mfa_required") return EXPIRED;
  const result = await completeMfaStep(pending, form, form.rememberDevice === "on", userContext(pending, ctx.client));
  if (!result.ok) return result;
  await renewSessionCookie();
  const callbackUrl = safeReturnPath(form.callbackUrl);
  // A required new password is the last step: straight there, still heading for callbackUrl after.
  if (result.stage !== "active") return leaveTo(pendingStageUrl(result.stage, callbackUrl));
  return leaveTo(callbackUrl);
});

export const mfaStepPasskeyOptionsAction = guardedAction("public", z.object({}), async () => {
  const pending = await currentPendingSignIn();
  if (pending?.stage !== "mfa_required") return EXPIRED;
  const options = await passkeyOptionsForSession(pending);
  return options ? { ok: true, data: options } : { ok: false, message: TOO_MANY_CEREMONIES };
});
