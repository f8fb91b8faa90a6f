import "server-only";
import Provider, { type KoaContextWithOIDC } from "oidc-provider";
import { recordAuditEvent, type AuditActor, type AuditEventInput } from "../audit";
import { CLIENT_IP_HEADER } from "../http/client-ip";
import { accountOfRevokedGrant } from "./adapter";
import { forgetConsentsForGrant } from "./consents";
import { POLICY_REFUSAL, type PolicyRefusal } from "./token-policy";
import { endPortalSessionFromCookie } from "../auth/portal-session";
import { rememberSessionSignIn } from "./session-sign-ins";
import { backchannelLogoutEvent } from "./backchannel";

// The provider's events, into the audit trail: token issue, refresh, reuse detection,
// revocation, authorization outcomes, registrations. An authorization also records the portal
// sign-in behind its provider session (session-sign-ins.ts), which later refreshes are judged by.
//
// oidc-provider emits its events synchronously, in the middle of a request. The work they start
// (audit writes, ending the portal session) is collected per request and awaited before the
// response goes out, so a client that holds a token can already find its audit event, and a
// browser told "you are signed out" is signed out. A failure is logged and does not withhold the
// response: by then tokens are stored and a rotated refresh token is spent, so refusing would
// lose the client its grant.

type Event = Omit<AuditEventInput, "actor" | "client">;
const workOfRequest = new WeakMap<object, Promise<unknown>[]>();

function finishBeforeResponse(work: Promise<unknown>, what: string): void {
  const logged = work.catch((error: unknown) => console.error(`${what} failed:`, error instanceof Error ? error.message : error));
  // Provider.ctx: the request being served (oidc-provider keeps it in an AsyncLocalStorage).
  const request = Provider.ctx;
  if (request) workOfRequest.get(request)?.push(logged);
}

// The provider's words for a one-time credential presented again, and what the trail calls it.
const REUSE_EVENTS: Record<string, string> = {
  "refresh token already used": "oauth.refresh_token.reuse",
  "authorization code already consumed": "oauth.authorization_code.reuse",
};

const requestClient = (ctx: KoaContextWithOIDC) => ({ ip: ctx.get(CLIENT_IP_HEADER) || null, userAgent: ctx.get("user-agent")?.slice(0, 512) || null });

function auditEvent(ctx: KoaContextWithOIDC | undefined, event: Event): AuditEventInput {
  const clientId = ctx?.oidc?.client?.clientId ?? null;
  const accountId = ctx?.oidc?.account?.accountId ?? ctx?.oidc?.session?.accountId ?? null;
  // findAccount (provider.ts) carries the email when the provider loaded the account.
  const email = (ctx?.oidc?.account as { email?: string } | undefined)?.email ?? null;
  const actor: AuditActor = accountId ? { type: "user", id: accountId, label: accountId === ctx?.oidc?.account?.accountId ? email : null } : clientId ? { type: "client", id: clientId, label: null } : { type: "system", id: null, label: "oidc" };
  return { ...event, actor, client: ctx ? requestClient(ctx) : null, metadata: { clientId, ...event.metadata } };
}

function record(ctx: KoaContextWithOIDC | undefined, event: Event) {
  finishBeforeResponse(recordAuditEvent(auditEvent(ctx, event)), "Audit of an OIDC event");
}

/**
 * A client presented another client's token for revocation: it holds a token that was never
 * issued to it, which is how a leak shows. Recorded as a security event; the provider refuses it.
 */
export function recordForeignRevocation(ctx: KoaContextWithOIDC, tokenClientId: string | undefined): void {
  record(ctx, { type: "security", action: "oauth.token.revoke_foreign", outcome: "blocked", resource: { type: "oauth_client", id: tokenClientId ?? "unknown" }, metadata: { tokenClientId: tokenClientId ?? null } });
}

export function listenForAuditEvents(provider: Provider): void {
  provider.use(async (ctx, next) => {
    const work: Promise<unknown>[] = [];
    workOfRequest.set(ctx, work);
    await next();
    await Promise.all(work);
  });
  provider.on("grant.success", (ctx: KoaContextWithOIDC) => {
    const grantType = String(ctx.oidc.params?.grant_type ?? "");
    const issued = ctx.oidc.entities.AccessToken ?? ctx.oidc.entities.ClientCredentials;
    record(ctx, {
      type: "token", action: grantType === "refresh_token" ? "oauth.token.refresh" : "oauth.token.issue", outcome: "success",
      resource: { type: "oauth_client", id: ctx.oidc.client?.clientId ?? "unknown" },
      // The scope issued: what a client holds and still uses (the compliance check of unused scopes reads it).
      metadata: { grantType, grantId: ctx.oidc.entities.Grant?.jti ?? null, dpop: !!issued?.jkt, scope: issued?.scope ?? null },
    });
  });
  provider.on("grant.error", (ctx: KoaContextWithOIDC, error: { error?: string; error_description?: string; error_detail?: string } & Partial<PolicyRefusal>) => {
    // oidc-provider revokes the whole grant when a spent refresh token or code comes back.
    const reuse = REUSE_EVENTS[error.error_detail ?? ""];
    const refusedByPolicy = error.error_detail === POLICY_REFUSAL && !!error.policyDecision;
    record(ctx, {
      type: reuse ? "security" : "token", action: reuse ?? "oauth.token.issue", outcome: reuse || refusedByPolicy ? "blocked" : "failure",
      resource: { type: "oauth_client", id: ctx.oidc?.client?.clientId ?? "unknown" },
      metadata: {
        grantType: String(ctx.oidc?.params?.grant_type ?? ""), error: error.error ?? null, detail: error.error_detail ?? null, grantRevoked: !!reuse,
        ...(refusedByPolicy ? { accountId: error.policyDecision!.accountId } : reuse ? { accountId: accountOfRevokedGrant(ctx) } : {}),
      },
      policyDecisions: refusedByPolicy ? [error.policyDecision!] : null,
    });
  });
  provider.on("grant.revoked", (ctx: KoaContextWithOIDC, grantId: string) => {
    finishBeforeResponse(forgetConsentsForGrant(grantId), "Forgetting the consents of a revoked grant");
    record(ctx, { type: "token", action: "oauth.grant.revoke", outcome: "success", resource: { type: "grant", id: grantId } });
  });
  for (const kind of ["access_token", "refresh_token", "client_credentials"] as const) {
    provider.on(`${kind}.destroyed` as "access_token.destroyed", (token: { clientId?: string; jti?: string }) => {
      record(undefined, { type: "token", action: "oauth.token.revoke", outcome: "success", resource: { type: "oauth_client", id: token.clientId ?? "unknown" }, metadata: { tokenKind: kind } });
    });
  }
  provider.on("authorization.success", (ctx: KoaContextWithOIDC) => {
    finishBeforeResponse(rememberSessionSignIn(ctx.oidc.session, (name) => ctx.cookies.get(name)), "Remembering the sign-in behind a provider session");
    record(ctx, { type: "authentication", action: "oauth.authorize", outcome: "success", resource: { type: "oauth_client", id: ctx.oidc.client?.clientId ?? "unknown" }, metadata: { scope: typeof ctx.oidc.params?.scope === "string" ? ctx.oidc.params.scope : null } });
  });
  provider.on("authorization.error", (ctx: KoaContextWithOIDC, error: { error?: string; error_description?: string }) => {
    record(ctx, { type: "authentication", action: "oauth.authorize", outcome: "failure", resource: { type: "oauth_client", id: String(ctx.oidc?.params?.client_id ?? "unknown").slice(0, 200) }, metadata: { error: error.error ?? null, description: error.error_description ?? null } });
  });
  provider.on("registration_create.success", (ctx: KoaContextWithOIDC, client: { clientId: string }) => {
    // The initial access token was spent as the client was stored (adapter.ts).
    const token = ctx.oidc.entities.InitialAccessToken;
    record(ctx, { type: "admin", action: "oauth.client.register", outcome: "success", resource: { type: "oauth_client", id: client.clientId }, metadata: { initialAccessToken: token?.jti.slice(0, 8) ?? null } });
  });
  provider.on("end_session.success", (ctx: KoaContextWithOIDC) => {
    // "Sign out everywhere" ends the provider's session and, with it, this browser's portal session
    // if it is the same account's. oidc-provider also posts a logout by itself when another account
    // signs in to an app in this browser ("Use another account"): the provider session is the
    // previous account's then, and the portal session the new user's, which must not end as it begins.
    const event = auditEvent(ctx, { type: "session", action: "oauth.end_session", outcome: "success" });
    const accountId = ctx.oidc.session?.accountId;
    const signedOut = ctx.oidc.params?.logout && accountId ? endPortalSessionFromCookie((name) => ctx.cookies.get(name), accountId, requestClient(ctx)) : Promise.resolve(false);
    const recorded = signedOut.then((signedOutOfPortal) => recordAuditEvent({ ...event, metadata: { ...event.metadata, signedOutOfPortal } }));
    finishBeforeResponse(recorded, "Ending the portal session at end-session");
  });
  // Logout tokens the provider's own sign-out page sent (backchannel.ts sends the others, and records them the same way).
  provider.on("backchannel.success", (ctx: KoaContextWithOIDC, client: { clientId: string }, accountId: string, sid: string) => {
    record(ctx, backchannelLogoutEvent(client.clientId, accountId, sid, null));
  });
  provider.on("backchannel.error", (ctx: KoaContextWithOIDC, error: Error, client: { clientId: string }, accountId: string, sid: string) => {
    record(ctx, backchannelLogoutEvent(client.clientId, accountId, sid, error.message));
  });
  provider.on("server_error", (_ctx: KoaContextWithOIDC, error: Error) => {
    console.error(`[oidc] server error: ${error.message}`);
  });
}
