import "server-only";
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { headers } from "next/headers";
import { errors, type InteractionResults } from "oidc-provider";
import { decodeJwt } from "jose";
import { z } from "zod";
import { audit, type AuditContext } from "../audit";
import { getProvider } from "./provider";
import { grantedScopes, recordConsent } from "./consents";
import { acrOf, acrValuesAsked, amrOf, strengthAsked, strengthMeets, strengthOfAmr } from "./amr";
import type { AuthStrength } from "../policy";

// Login and consent are Next.js pages; the provider's interaction helpers want Node's req/res,
// which server components and actions do not have. So the request's headers are replayed into a
// bare IncomingMessage: the provider then checks its own signed interaction cookie, which binds
// the interaction to the browser that started it, exactly as it would on its own routes.

async function nodeRequest(): Promise<{ req: IncomingMessage; res: ServerResponse }> {
  const req = new IncomingMessage(new Socket());
  req.headers = Object.fromEntries((await headers()).entries());
  req.method = "GET";
  req.url = "/";
  return { req, res: new ServerResponse(req) };
}

type Provider = Awaited<ReturnType<typeof getProvider>>;
type Interaction = Awaited<ReturnType<Provider["interactionDetails"]>>;

/**
 * The interaction behind this browser's cookie, or null when there is none (expired, finished, or
 * started in another browser). Any other failure (the database) is not passed off as an expiry.
 */
async function currentInteraction(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<Interaction | null> {
  return provider.interactionDetails(req, res).catch(nullIfGone);
}

function nullIfGone(error: unknown): null {
  if (error instanceof errors.SessionNotFound) return null;
  throw error;
}

export type InteractionView = {
  uid: string;
  prompt: "login" | "consent" | string;
  reasons: string[];
  /** `returnsTo`: the host of the redirect URI the provider matched, where the user lands after. */
  client: { id: string; name: string; returnsTo: string | null };
  scopes: string[];
  /** What the consent would grant that is not granted yet: an API's scopes name the API (its resource indicator), the same word may be asked of two. */
  missingScopes: { scope: string; resource: string | null }[];
  /** The provider's end-user session's account, if it already has one. */
  sessionAccountId: string | null;
  /** The account an id_token_hint names (the provider checked its signature): the app wants that one signed in. */
  hintedAccountId: string | null;
  maxAge: number | null;
  startedAt: Date;
  /** The sign-in strength the app asks for (acr_values), if any. */
  strengthAsked: AuthStrength | null;
};

/** The interaction behind this browser's cookie, if it is the one with this uid. */
export async function loadInteraction(uid: string): Promise<InteractionView | null> {
  const provider = await getProvider();
  const { req, res } = await nodeRequest();
  const interaction = await currentInteraction(provider, req, res);
  if (!interaction || interaction.uid !== uid) return null;
  const clientId = String(interaction.params.client_id);
  const client = await provider.Client.find(clientId);
  const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
  return {
    uid,
    prompt: interaction.prompt.name,
    client: { id: clientId, name: client?.clientName ?? clientId, returnsTo: URL.parse(String(interaction.params.redirect_uri ?? ""))?.host ?? null },
    scopes: String(interaction.params.scope ?? "").split(" ").filter(Boolean),
    missingScopes: [
      ...(details.missingOIDCScope ?? []).map((scope) => ({ scope, resource: null })),
      ...Object.entries(details.missingResourceScopes ?? {}).flatMap(([resource, scopes]) => scopes.map((scope) => ({ scope, resource }))),
    ],
    sessionAccountId: interaction.session?.accountId ?? null,
    hintedAccountId: hintedAccount(interaction.params.id_token_hint),
    ...freshnessAsked(interaction),
    strengthAsked: strengthAsked(acrsAsked(interaction)),
  };
}

type FreshnessAsked = Pick<InteractionView, "reasons" | "maxAge" | "startedAt">;

const acrsAsked = (interaction: Interaction) => acrValuesAsked(interaction.params.acr_values);

/** The subject of an id_token_hint (subjects are account ids here), or null. */
function hintedAccount(hint: unknown): string | null {
  if (typeof hint !== "string") return null;
  try {
    return decodeJwt(hint).sub ?? null;
  } catch {
    return null;
  }
}

// The provider keeps the request's parameters as the strings the client sent (it checked that
// max_age is a whole number).
const maxAgeParam = z.string().regex(/^\d+$/).transform(Number);

function freshnessAsked(interaction: Interaction): FreshnessAsked {
  const maxAge = maxAgeParam.safeParse(interaction.params.max_age);
  return { reasons: interaction.prompt.reasons, maxAge: maxAge.success ? maxAge.data : null, startedAt: new Date((interaction.iat ?? 0) * 1000) };
}

async function finish(uid: string, result: InteractionResults | ((interaction: Interaction) => InteractionResults), allowed: (interaction: Interaction) => boolean = () => true): Promise<string | null> {
  const provider = await getProvider();
  const { req, res } = await nodeRequest();
  const interaction = await currentInteraction(provider, req, res);
  if (!interaction || interaction.uid !== uid || !allowed(interaction)) return null;
  return provider.interactionResult(req, res, typeof result === "function" ? result(interaction) : result, { mergeWithLastSubmission: true }).catch(nullIfGone);
}

/**
 * The signed-in portal user completes the provider's login prompt; returns where the browser goes
 * next. Not with a sign-in older than the client's max_age (or from before a prompt=login): the
 * provider takes the login's time as given, so it would put the old auth_time in the ID token. Nor
 * with one weaker than the app asks for (acr): the ID token's acr says which class it met.
 */
export async function completeLogin(uid: string, login: { userId: string; authMethods: string[]; authTime: Date }): Promise<string | null> {
  const amr = amrOf(login.authMethods);
  const strength = strengthOfAmr(amr);
  return finish(
    uid,
    (interaction) => ({ login: { accountId: login.userId, amr, acr: acrOf(strength, acrsAsked(interaction)), ts: Math.floor(login.authTime.getTime() / 1000), remember: false } }),
    (interaction) => !needsFreshLogin(freshnessAsked(interaction), login.authTime) && strengthMeets(strength, strengthAsked(acrsAsked(interaction))),
  );
}

/** The sign-in strength the app asks for that a sign-in with `authMethods` does not meet, or null. */
export function strongerSignInAsked(interaction: Pick<InteractionView, "strengthAsked">, authMethods: readonly string[]): AuthStrength | null {
  return strengthMeets(strengthOfAmr(amrOf(authMethods)), interaction.strengthAsked) ? null : interaction.strengthAsked;
}

/** Grants what the client asked for; `remember` keeps the decision for next time. */
export async function completeConsent(uid: string, userId: string, remember: boolean, ctx: AuditContext): Promise<string | null> {
  const provider = await getProvider();
  const { req, res } = await nodeRequest();
  const interaction = await currentInteraction(provider, req, res);
  if (!interaction || interaction.uid !== uid || interaction.session?.accountId !== userId) return null;
  // A second "Allow" (a double click) while the first is on its way: the first one's grant stands.
  if (interaction.result?.consent) return interaction.returnTo;
  const clientId = String(interaction.params.client_id);
  // Disabled or deleted while the user read the page (its grants were revoked then): no new one.
  if (!(await provider.Client.find(clientId))) return null;
  const grant = (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ?? new provider.Grant({ accountId: userId, clientId });
  const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(" "));
  if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(" "));
  const grantId = await grant.save();
  const scopes = grantedScopes(grant);
  await recordConsent(userId, clientId, grantId, scopes, remember);
  await audit(ctx, { type: "consent", action: "oauth.consent.grant", outcome: "success", resource: { type: "oauth_client", id: clientId }, metadata: { grantId, scopes, remembered: remember } });
  return provider.interactionResult(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true }).catch(nullIfGone);
}

export async function denyInteraction(uid: string, ctx: AuditContext): Promise<string | null> {
  const returnTo = await finish(uid, { error: "access_denied", error_description: "The user denied the request." });
  if (returnTo) await audit(ctx, { type: "consent", action: "oauth.consent.deny", outcome: "failure", resource: { type: "oauth_interaction", id: uid } });
  return returnTo;
}

/** The access policies refused this client a token for this user (action issueToken): back to the client with access_denied. */
export async function refuseByPolicy(uid: string, clientId: string, decision: { policies: string[]; version: number }, ctx: AuditContext): Promise<string | null> {
  const returnTo = await finish(uid, { error: "access_denied", error_description: "The access policies do not allow this application a token for you right now." });
  if (returnTo) {
    await audit(ctx, {
      type: "policy", action: "oauth.token.denied_by_policy", outcome: "blocked", resource: { type: "oauth_client", id: clientId },
      metadata: { interaction: uid, policies: decision.policies }, policyDecisions: [{ action: "issueToken", decision: "deny", policies: decision.policies, version: decision.version }],
    });
  }
  return returnTo;
}

/** The app named another account than the one signed in (id_token_hint): continuing as this one would only come back. */
export function wantsAnotherAccount(interaction: Pick<InteractionView, "hintedAccountId">, userId: string): boolean {
  return interaction.hintedAccountId !== null && interaction.hintedAccountId !== userId;
}

/** prompt=login, or a max_age the session is older than: the user must sign in again first. */
export function needsFreshLogin(interaction: FreshnessAsked, authTime: Date, now = new Date()): boolean {
  // A sign-in after this request began is as fresh as it gets.
  if (authTime >= interaction.startedAt) return false;
  const ageSeconds = (now.getTime() - authTime.getTime()) / 1000;
  return interaction.reasons.includes("login_prompt") || (interaction.maxAge !== null && ageSeconds > interaction.maxAge);
}
