import "server-only";
import { createHash, X509Certificate } from "node:crypto";
import Provider, { errors, type Configuration, type KoaContextWithOIDC, type ClientMetadata } from "oidc-provider";
import { z } from "zod";
import { publicUrl, readConfig } from "../config";
import { findEnabledAccount } from "../auth/users";
import { PostgresAdapter } from "./adapter";
import { clientSecretMatches, OIDC_SCOPES, registrationProblem } from "./clients";
import { DEFAULT_ACCESS_TOKEN_TTL, DEFAULT_REFRESH_TOKEN_TTL, PROVIDER_SESSION_TTL } from "./token-lifetimes";
import { errorPage, signedOutPage, signOutPage } from "./provider-pages";
import { rememberedGrantId } from "./consents";
import { listenForAuditEvents, recordForeignRevocation } from "./events";
import { endSignInOnlyGrants } from "./sign-out";
import { gatehouseInteractionPolicy } from "./interaction-policy";
import { ACR_VALUES } from "./amr";
import { refuseClientCredentialsUnlessAllowed, refuseRefreshUnlessAllowed } from "./token-policy";
import { sessionSignIn } from "./session-sign-ins";
import { ensureSigningKeys, keysVersion, providerJwks } from "./keys";
import { listedInternalHost } from "../http/destinations";

// panva's oidc-provider does the protocol; this file only configures it. OAuth 2.1 choices:
// authorization code only, PKCE (S256) for every client, exact redirect URIs (https or loopback),
// rotating refresh tokens with reuse detection (the library revokes the grant), DPoP, PAR,
// resource indicators with JWT access tokens, and dynamic registration only with an initial
// access token an admin issued.

export const OIDC_PREFIX = "/oidc";
// A rotation on any instance is in force on every instance within a second.
const KEYS_CHECK_MS = 500;

export function issuer(): string {
  return publicUrl().origin;
}

type Metadata = ClientMetadata & { gatehouse_resources?: string[]; gatehouse_api_scopes?: string[]; gatehouse_access_token_ttl?: number; gatehouse_refresh_token_ttl?: number };
const clientMeta = (ctx: KoaContextWithOIDC, client?: { metadata(): ClientMetadata }) => (client ?? ctx.oidc.client)?.metadata() as Metadata | undefined;

// Called for every use of a user's grant (code, refresh token, userinfo); a disabled user's grants
// stop working at once.
async function findAccount(ctx: KoaContextWithOIDC, sub: string, token?: { kind?: string; clientId?: string; amr?: string[]; sessionUid?: string; consumed?: unknown }) {
  if (!z.uuid().safeParse(sub).success) return undefined;
  const user = await findEnabledAccount(sub);
  if (!user) return undefined;
  // A spent refresh token is left to the provider's reuse detection (it revokes the grant), which
  // runs after this: a policy refusal first would hide the theft signal.
  if (token?.kind === "RefreshToken" && !token.consumed) await refuseRefreshUnlessAllowed(ctx, user, token);
  // An access token from a sign-in since taken back stops too (userinfo answers invalid_token): an
  // offline grant's tokens outlive the provider session the revocation ended.
  if (token?.kind === "AccessToken" && (await sessionSignIn(token.sessionUid)).revoked) return undefined;
  return {
    accountId: user.id,
    // For the audit trail's actor label (lib/oidc/events.ts): the console finds people by email.
    email: user.email,
    // email_verified: the owner confirmed the address with a mailed link (lib/auth/email-verification.ts).
    claims: async () => {
      // Roles and groups only to a client that holds their scope now: a grant made before an admin
      // took the scope away must not go on carrying them (updateClient also revokes such grants).
      const holds = new Set(ctx.oidc?.client?.scope?.split(" ") ?? []);
      return {
        sub: user.id, name: user.name, email: user.email, email_verified: user.emailVerified, updated_at: Math.floor(user.updatedAt.getTime() / 1000),
        ...(holds.has("roles") && { roles: user.roles }), ...(holds.has("groups") && { groups: user.groups }),
      };
    },
  };
}

/** The client certificate a trusted proxy forwarded (server.ts drops the header from anyone else). */
function forwardedCertificate(ctx: KoaContextWithOIDC): X509Certificate | undefined {
  const header = readConfig().GATEHOUSE_CLIENT_CERT_HEADER;
  const value = header ? ctx.get(header) : "";
  if (!value) return undefined;
  try {
    return new X509Certificate(decodeURIComponent(value));
  } catch {
    return undefined;
  }
}

function configuration(jwks: { keys: object[] }): Configuration {
  const cookieKey = createHash("sha256").update(`oidc-cookies\0${readConfig().AUTH_SECRET ?? ""}`).digest("base64url");
  return {
    adapter: PostgresAdapter,
    jwks: jwks as Configuration["jwks"],
    findAccount,
    cookies: { keys: [cookieKey] },
    // amr in the ID token tells relying parties how the user signed in (pwd, otp, hwk, mfa).
    // acr: which class of sign-in was met (amr.ts ACR_VALUES), asked for with acr_values.
    acrValues: [...ACR_VALUES],
    claims: { openid: ["sub", "amr", "acr"], profile: ["name", "updated_at"], email: ["email", "email_verified"], roles: ["roles"], groups: ["groups"] },
    scopes: [...OIDC_SCOPES],
    responseTypes: ["code"],
    clientAuthMethods: ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
    enabledJWA: { idTokenSigningAlgValues: ["ES256", "EdDSA"], userinfoSigningAlgValues: ["ES256", "EdDSA"], introspectionSigningAlgValues: ["ES256", "EdDSA"] },
    clientDefaults: { grant_types: ["authorization_code"], response_types: ["code"], id_token_signed_response_alg: "ES256", token_endpoint_auth_method: "client_secret_basic" },
    pkce: { required: () => true },
    // Outgoing requests: the library refuses special-use addresses. A logout token (and nothing
    // else: not a client's jwks_uri) may go to an internal receiver the operator lists in
    // GATEHOUSE_WEBHOOK_ALLOWED_HOSTS, as webhooks may; only the console sets such a URI (clients.ts).
    fetch: (url, options) => {
      const logoutToken = options?.method === "POST" && options.body instanceof URLSearchParams && options.body.has("logout_token");
      if (!logoutToken || !listedInternalHost(new URL(url instanceof Request ? url.url : url).hostname)) return globalThis.fetch(url, options);
      const { dispatcher: _checked, ...unchecked } = options as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, unchecked);
    },
    allowOmittingSingleRegisteredRedirectUri: false,
    rotateRefreshToken: true,
    // Called as a token's claims are made; for client credentials, before anything is stored.
    extraTokenClaims: async (ctx, token) => {
      if (token.kind === "ClientCredentials") await refuseClientCredentialsUnlessAllowed(ctx);
      return undefined;
    },
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed("refresh_token") && code.scopes.has("offline_access"),
    routes: {
      authorization: `${OIDC_PREFIX}/auth`,
      end_session: `${OIDC_PREFIX}/session/end`,
      introspection: `${OIDC_PREFIX}/token/introspection`,
      jwks: `${OIDC_PREFIX}/jwks`,
      pushed_authorization_request: `${OIDC_PREFIX}/request`,
      registration: `${OIDC_PREFIX}/reg`,
      revocation: `${OIDC_PREFIX}/token/revocation`,
      token: `${OIDC_PREFIX}/token`,
      userinfo: `${OIDC_PREFIX}/me`,
      backchannel_authentication: `${OIDC_PREFIX}/backchannel`,
      code_verification: `${OIDC_PREFIX}/device`,
      device_authorization: `${OIDC_PREFIX}/device/auth`,
      challenge: `${OIDC_PREFIX}/challenge`,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: gatehouseInteractionPolicy() },
    // The consent just given in this interaction, or one the user asked to remember; never the
    // provider session's last grant for the client (the library's default), which would reuse a
    // consent given "for this sign-in only" for the session's whole life, prompt=none included.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || (await rememberedGrantId(ctx.oidc.session!.accountId!, ctx.oidc.client!.clientId));
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    // Whether revoking a grant's tokens ends the grant too. At a sign-out the grants a remembered
    // consent points at stay (sign-out.ts ends the others itself); revoking an access token alone
    // never ends its grant (the library's default); every other revocation (a refresh token
    // revoked or reused, a code reused) does.
    revokeGrantPolicy: async (ctx) => {
      if (ctx.oidc.route === "end_session_confirm") {
        await endSignInOnlyGrants(ctx);
        return false;
      }
      return !(ctx.oidc.route === "revocation" && !!ctx.oidc.entities.AccessToken);
    },
    ttl: {
      AccessToken: (ctx, _token, client) => clientMeta(ctx, client)?.gatehouse_access_token_ttl ?? DEFAULT_ACCESS_TOKEN_TTL,
      ClientCredentials: (ctx, _token, client) => clientMeta(ctx, client)?.gatehouse_access_token_ttl ?? DEFAULT_ACCESS_TOKEN_TTL,
      // A public client's rotated refresh token keeps its predecessor's expiry (oidc-provider's
      // default for browser apps, here for every public client): rotating cannot keep a stolen one
      // alive for ever. A sender-constrained (DPoP) one needs its key, and slides like a confidential client's.
      RefreshToken: (ctx, token, client) => {
        const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
        if (rotated && client.clientAuthMethod === "none" && !token.isSenderConstrained()) return rotated.remainingTTL;
        return clientMeta(ctx, client)?.gatehouse_refresh_token_ttl ?? DEFAULT_REFRESH_TOKEN_TTL;
      },
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: PROVIDER_SESSION_TTL,
      Grant: 365 * 86_400,
      PushedAuthorizationRequest: 60,
    },
    extraClientMetadata: {
      properties: ["gatehouse_resources", "gatehouse_api_scopes", "gatehouse_access_token_ttl", "gatehouse_refresh_token_ttl"],
      // Called for each of these properties with the whole metadata, both when a client registers
      // and whenever a stored one is loaded: checked once, at registration (a console client met
      // the same rules in clientInputSchema).
      validator(ctx, key, _value, metadata) {
        if (key !== "gatehouse_resources" || ctx?.oidc?.route !== "registration") return;
        const problem = registrationProblem(metadata);
        // The provider answers invalid_redirect_uri for a description about redirect_uris (its own
        // InvalidRedirectUri would replace the description with a generic one).
        if (problem) throw new errors.InvalidClientMetadata(problem.message);
      },
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client learns about its own tokens only (the library's default lets any confidential
      // client introspect any token; Gatehouse has no resource servers that would need to). A
      // disabled user's tokens are inactive, as userinfo and refresh already treat them (the
      // library does not look the account up here).
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId !== client.clientId) return false;
          const accountId = "accountId" in token ? token.accountId : undefined;
          if (accountId && !(await findEnabledAccount(accountId))) return false;
          // Nor are those of a sign-in taken back: the token endpoint refuses them, userinfo too.
          const sessionUid = "sessionUid" in token ? token.sessionUid : undefined;
          return !(await sessionSignIn(sessionUid)).revoked;
        },
      },
      // A client revokes its own tokens only. Another client's is left alone and recorded as a
      // security event; a confidential client hears why, a public one (anyone can call as it)
      // hears "done", so the endpoint tells nobody which tokens are live (the library's default
      // answers, which it asks every deployment to make its own).
      revocation: {
        enabled: true,
        allowedPolicy: (ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          recordForeignRevocation(ctx, token.clientId);
          if (client.clientAuthMethod === "none") return false;
          throw new errors.InvalidRequest("client is not authorized to revoke the presented token");
        },
      },
      userinfo: { enabled: true },
      registration: { enabled: true, initialAccessToken: true },
      pushedAuthorizationRequests: { enabled: true },
      dPoP: { enabled: true },
      // A user's sign-in ending (signed out, revoked, disabled, an incident response) is POSTed to
      // the apps that have a back-channel logout URI (backchannel.ts); the provider's own sign-out
      // page sends them too.
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.body = signOutPage(ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId, form);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.body = signedOutPage();
        },
      },
      // Certificate-bound access tokens (RFC 8705) for clients that ask for them; the TLS is
      // terminated by a trusted proxy, which forwards the certificate it verified.
      mTLS: {
        enabled: !!readConfig().GATEHOUSE_CLIENT_CERT_HEADER,
        certificateBoundAccessTokens: true,
        getCertificate: forwardedCertificate as never,
      },
      resourceIndicators: {
        enabled: true,
        // Without a resource parameter, a client allowed APIs gets a token for its first one (a
        // sign-in client too: its access token is then the API's, refused at userinfo, and the
        // provider puts the profile claims in the ID token); one allowed none, an opaque token for userinfo.
        defaultResource: (ctx, client) => clientMeta(ctx, client)?.gatehouse_resources?.[0] ?? undefined!,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => {
          const meta = clientMeta(ctx, client);
          if (!meta?.gatehouse_resources?.includes(resource)) throw new errors.InvalidTarget();
          return {
            scope: (meta.gatehouse_api_scopes ?? []).join(" "),
            audience: resource,
            accessTokenTTL: meta.gatehouse_access_token_ttl ?? DEFAULT_ACCESS_TOKEN_TTL,
            accessTokenFormat: "jwt",
            jwt: { sign: { alg: "ES256" } },
          };
        },
      },
    },
    renderError: (ctx, out) => {
      ctx.type = "html";
      ctx.body = errorPage(ctx, out);
    },
  };
}

async function build(): Promise<{ provider: Provider; version: string }> {
  await ensureSigningKeys();
  const { keys, version } = await providerJwks();
  const provider = new Provider(issuer(), configuration({ keys }));
  // server.ts sets Host and X-Forwarded-Host/Proto to the public URL on every provider request, so Koa may believe them.
  provider.proxy = true;
  // Client secrets are stored hashed (lib/oidc/clients.ts): compare the hash, in constant time,
  // with the current secret's and, after a rotation with overlap, the replaced one's.
  provider.Client.prototype.compareClientSecret = function compare(this: { clientId: string }, actual: string) {
    return clientSecretMatches(this.clientId, actual);
  };
  // The loaded client's client_secret is that hash: reading a registration (RFC 7592) must not hand
  // it out as the secret. (The secret itself is shown once, in the registration's answer.)
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === "client" && ctx.body && typeof ctx.body === "object") {
      const { client_secret: _hash, client_secret_expires_at: _expiry, ...registration } = ctx.body as Record<string, unknown>;
      ctx.body = registration;
    }
  });
  listenForAuditEvents(provider);
  return { provider, version };
}

type Cached = { provider: Provider; version: string; checkedAt: number };
const CACHE = Symbol.for("gatehouse.oidc.provider");
const store = globalThis as unknown as { [CACHE]?: Promise<Cached> };

/**
 * The provider for this process, rebuilt when the signing keys change (a rotation on any
 * instance is picked up within KEYS_CHECK_MS).
 */
export async function getProvider(): Promise<Provider> {
  const current = store[CACHE];
  if (current) {
    const cached = await current;
    if (Date.now() - cached.checkedAt < KEYS_CHECK_MS) return cached.provider;
    if ((await keysVersion()) === cached.version) {
      cached.checkedAt = Date.now();
      return cached.provider;
    }
  }
  const next = build().then((built) => ({ ...built, checkedAt: Date.now() }));
  store[CACHE] = next;
  next.catch(() => {
    if (store[CACHE] === next) delete store[CACHE];
  });
  return (await next).provider;
}
