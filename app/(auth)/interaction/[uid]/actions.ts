"use server";
import { z } from "zod";
import { guardedAction, leaveTo, sessionAuthentication, tokenIssuanceAfterPasskey, tokenIssuanceDecision, type ActionState, type CurrentUser } from "@/lib/auth";
import type { AuditContext } from "@/lib/audit";
import { canConfirmWith } from "@/lib/mfa";
import { completeConsent, completeLogin, denyInteraction, loadInteraction, needsFreshLogin, refuseByPolicy, strongerSignInAsked, wantsAnotherAccount } from "@/lib/oidc";
import type { AuthStrength } from "@/lib/policy";

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
  if (wantsAnotherAccount(interaction, user.id)) return { ok: false, message: `${interaction.client.name} asks for another account than this one.` };
  const stronger = strongerSignInAsked(interaction, authentication.authMethods);
  if (stronger) return askForStrongerSignIn(interaction.client.name, stronger, user.id);
  return unlessRefusedByPolicy(uid, interaction.client, user, ctx, () => completeLogin(uid, { userId: user.id, ...authentication }));
});

/**
 * The access policies decide whether this client may have tokens for this user now (e.g. not at
 * high risk). Refused, but allowed once the user confirms with a passkey: ask for that (the way
 * back is this page); refused otherwise: back to the app with access_denied.
 */
async function unlessRefusedByPolicy(uid: string, client: { id: string; name: string }, user: CurrentUser, ctx: AuditContext, proceed: () => Promise<string | null>): Promise<ActionState> {
  const decision = await tokenIssuanceDecision(user, client);
  if (decision.decision === "allow") return sendOn(await proceed());
  if (await tokenIssuanceAfterPasskey(user, client)) return { ok: false, stepUp: "passkey", message: `The access policies let ${client.name} sign you in only with a passkey: confirm with yours, then continue.` };
  return sendOn(await refuseByPolicy(uid, client.id, decision, ctx));
}

/** The app asks for a sign-in with a second factor or a passkey (acr_values): confirm with one (step-up), if the account has one. */
async function askForStrongerSignIn(clientName: string, needed: AuthStrength, userId: string): Promise<ActionState> {
  const passkey = needed === "phishing_resistant";
  if (!(await canConfirmWith(userId, passkey))) {
    return { ok: false, message: `${clientName} asks for a sign-in with ${passkey ? "a passkey" : "a second factor"}, and your account has none: add one under Account → Security, then start again from the app.` };
  }
  return { ok: false, stepUp: passkey ? "passkey" : true, message: `${clientName} asks you to confirm with ${passkey ? "your passkey" : "a second factor"}, then continue.` };
}

const sendOn = async (returnTo: string | null): Promise<ActionState> => (returnTo ? leaveTo(returnTo) : EXPIRED);

export const consentAction = guardedAction(
  "signed-in",
  z.object({ uid: uidSchema, decision: z.enum(["allow", "deny"]), remember: z.literal("on").optional() }),
  async ({ uid, decision, remember }, user, ctx) => {
    const interaction = await loadInteraction(uid);
    if (interaction?.prompt !== "consent") return EXPIRED;
    if (decision === "deny") return sendOn(await denyInteraction(uid, ctx));
    return unlessRefusedByPolicy(uid, interaction.client, user, ctx, () => completeConsent(uid, user.id, remember === "on", ctx));
  },
);
