import "server-only";
import { interactionPolicy, type KoaContextWithOIDC } from "oidc-provider";
import { portalUserFromCookie } from "../auth/portal-session";
import { tokenIssuanceDecisionAt } from "../auth/session-user";
import { policyClient } from "./token-policy";
import { CLIENT_IP_HEADER } from "../http/client-ip";
import { isSessionSignIn } from "./session-sign-ins";
import { acrOf, acrValuesAsked, strengthAsked, strengthMeets, strengthOfAmr } from "./amr";

const { base, Check } = interactionPolicy;

/**
 * oidc-provider's prompts with one more login check: the provider's session counts only while the
 * portal session of the same browser is active, belongs to the same user and is the sign-in the
 * provider session was made from (one signed out and in again is a new sign-in: its methods and
 * time, not the old one's, must reach the ID token), and while the access
 * policies let this client have tokens for them. Otherwise the login page runs (and asks both
 * again), and a prompt=none request gets login_required. So signing out of the portal, or an
 * admin ending the session, ends single sign-on in that browser for every app, and a policy that
 * refuses a client tokens holds on silent sign-in too, not only on the login page.
 */
export function gatehouseInteractionPolicy() {
  const policy = base();
  policy.get("login")!.checks.push(
    new Check("portal_session", "The Gatehouse session behind this sign-in has ended or no longer allows it", "login_required", async (ctx: KoaContextWithOIDC) => {
      // Just back from the login page, which asked both.
      if (ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
      const user = await portalUserFromCookie((name) => ctx.cookies.get(name));
      if (!user || user.id !== ctx.oidc.session?.accountId) return Check.REQUEST_PROMPT;
      if (!(await isSessionSignIn(ctx.oidc.session.uid, user.sessionId))) return Check.REQUEST_PROMPT;
      const { decision } = await tokenIssuanceDecisionAt(user, policyClient(ctx.oidc.client!), ctx.get(CLIENT_IP_HEADER) || null);
      return decision === "allow" ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
    // An app asking for a stronger sign-in (acr_values: mfa, phr) than the one behind the provider's
    // session gets the login page, which asks the user to confirm with that factor; prompt=none gets
    // login_required. By the provider session's own methods: a portal session made stronger since
    // (a step-up) reaches the ID token only through the login page.
    new Check("acr_strength", "The app asks for a stronger sign-in than this session's", "login_required", (ctx: KoaContextWithOIDC) => {
      if (ctx.oidc.result?.login || !ctx.oidc.session) return Check.NO_NEED_TO_PROMPT;
      const asked = acrValuesAsked(ctx.oidc.params?.acr_values);
      const strength = strengthOfAmr(ctx.oidc.session.amr);
      if (!strengthMeets(strength, strengthAsked(asked))) return Check.REQUEST_PROMPT;
      // Single sign-on: the provider would give this request the acr the session's last login
      // worked out for another request (another app's "mfa" for a passkey sign-in this one asks
      // "phr" of): this request's, from the same sign-in, instead.
      ctx.oidc.session.acr = acrOf(strength, asked);
      return Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}
