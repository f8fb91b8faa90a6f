"use server";
import { z } from "zod";
import { guardedAction, sessionAuthentication, tokenIssuanceDecision } from "@/lib/auth";
import { completeConsent, completeLogin, denyInteraction, loadInteraction, refuseByPolicy } from "@/lib/oidc";

const EXPIRED = { ok: false, message: "This sign-in request has expired or was started in another browser. Return to the app and start again." } as const;
const uidSchema = z.string().min(10).max(64).regex(/^[\w-]+$/);

// Each action answers with where the browser goes next (the provider's resume URL), which the page
// follows with a full navigation: it is a protocol endpoint, not a Next.js route.

export const continueLoginAction = guardedAction("signed-in", z.object({ uid: uidSchema }), async ({ uid }, user, ctx) => {
  const interaction = await loadInteraction(uid);
  if (!interaction) return EXPIRED;
  // The access policies decide whether this client may have tokens for this user now (e.g. not at high risk).
  const decision = await tokenIssuanceDecision(user, interaction.client.id);
  const returnTo = decision.decision === "allow"
    ? await completeLogin(uid, { userId: user.id, ...(await sessionAuthentication(user.sessionId)) })
    : await refuseByPolicy(uid, interaction.client.id, decision.policies, ctx);
  return returnTo ? { ok: true, data: { returnTo } } : EXPIRED;
});

export const consentAction = guardedAction(
  "signed-in",
  z.object({ uid: uidSchema, decision: z.enum(["allow", "deny"]), remember: z.literal("on").optional() }),
  async ({ uid, decision, remember }, user, ctx) => {
    const returnTo = decision === "allow" ? await completeConsent(uid, user.id, remember === "on", ctx) : await denyInteraction(uid, ctx);
    return returnTo ? { ok: true, data: { returnTo } } : EXPIRED;
  },
);
