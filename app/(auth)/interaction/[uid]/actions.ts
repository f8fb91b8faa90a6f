"use server";
import { z } from "zod";
import { guardedAction, leaveTo, sessionAuthentication, tokenIssuanceDecision, type CurrentUser } from "@/lib/auth";
import type { AuditContext } from "@/lib/audit";
import { completeConsent, completeLogin, denyInteraction, loadInteraction, needsFreshLogin, refuseByPolicy } from "@/lib/oidc";

const EXPIRED = { ok: false, message: "This sign-in request has expired or was started in another browser. Return to the app and start again." } as const;
const uidSchema = z.string().min(10).max(64).regex(/^[\w-]+$/);

// Each action sends the browser on to the provider's resume URL with a full page load (leaveTo: a
// protocol endpoint, not a Next.js route), also from a form posted with no script running.

export const continueLoginAction = guardedAction("signed-in", z.object({ uid: uidSchema }), async ({ uid }, user, ctx) => {
  const interaction = await loadInteraction(uid);
  if (interaction?.prompt !== "login") return EXPIRED;
  const authentication = await sessionAuthentication(user.sessionId);
  // The page offers only "Sign in again" (or "Use another account") then; a hand-made call must not skip it either.
  if (needsFreshLogin(interaction, authentication.authTime)) return { ok: false, message: `${interaction.client.name} asks you to sign in again.` };
  if (interaction.hintedAccountId !== null && interaction.hintedAccountId !== user.id) return { ok: false, message: `${interaction.client.name} asks for another account than this one.` };
  const returnTo = await unlessRefusedByPolicy(uid, interaction.client, user, ctx, () => completeLogin(uid, { userId: user.id, ...authentication }));
  return returnTo ? leaveTo(returnTo) : EXPIRED;
});

/** The access policies decide whether this client may have tokens for this user now (e.g. not at high risk). */
async function unlessRefusedByPolicy(uid: string, client: { id: string; name: string }, user: CurrentUser, ctx: AuditContext, proceed: () => Promise<string | null>) {
  const decision = await tokenIssuanceDecision(user, client);
  return decision.decision === "allow" ? proceed() : refuseByPolicy(uid, client.id, decision.policies, ctx);
}

export const consentAction = guardedAction(
  "signed-in",
  z.object({ uid: uidSchema, decision: z.enum(["allow", "deny"]), remember: z.literal("on").optional() }),
  async ({ uid, decision, remember }, user, ctx) => {
    const interaction = await loadInteraction(uid);
    if (interaction?.prompt !== "consent") return EXPIRED;
    const returnTo = decision === "deny"
      ? await denyInteraction(uid, ctx)
      : await unlessRefusedByPolicy(uid, interaction.client, user, ctx, () => completeConsent(uid, user.id, remember === "on", ctx));
    return returnTo ? leaveTo(returnTo) : EXPIRED;
  },
);
