import "server-only";
import { createHash, randomBytes } from "node:crypto";
import type { AdapterPayload } from "oidc-provider";
import { z } from "zod";
import { db, Prisma, type OAuthClient } from "../db/client";
import { announceChange, changesSeen, onChange } from "../db/changes";
import { safeEqual } from "../crypto";
import { readConfig } from "../config";
import { audit, type AuditContext } from "../audit";
import { revokeClientGrants } from "./consents";
import { DEFAULT_ACCESS_TOKEN_TTL, DEFAULT_REFRESH_TOKEN_TTL } from "./token-lifetimes";
import { hostRefusal, listedInternalHost } from "../http/destinations";

// OAuth clients: what the console creates and what dynamic registration stores. The secret is
// shown once and kept only as SHA-256 (it is 256 random bits, so a slow hash adds nothing).

// "roles": the user's Gatehouse roles as the `roles` claim, for apps that let admins and analysts in by them.
// "groups": the ids of the user's groups (lib/groups) as the `groups` claim, for apps that map teams to their own permissions.
export const OIDC_SCOPES = ["openid", "profile", "email", "roles", "groups", "offline_access"] as const;
/** Scopes that say who holds power or works where: an admin grants them to an app on the console. */
const CONSOLE_ONLY_SCOPES = ["roles", "groups"];
export const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"] as const;

/** OAuth 2.1: https, or http on a loopback IP literal (native apps); no fragment, no user name or password. */
export function redirectUriProblem(uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `${uri} is not a URL.`;
  }
  // Not url.hash: an empty fragment ("…/cb#") has none, and the provider refuses any "#" (the client would not load).
  if (uri.includes("#")) return `${uri} must not contain a fragment.`;
  // "https://trusted.example@evil.example/cb" goes to evil.example: a reader of the list would be misled.
  if (url.username || url.password) return `${uri} must not contain a user name or password.`;
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "[::1]")) return null;
  return `${uri} must use https (or http on 127.0.0.1 / [::1] for native apps).`;
}

const lines = (text: string) => text.split(/[\s,]+/).map((l) => l.trim()).filter(Boolean);

// What every client is held to, whether an admin creates it on the console or it registers itself
// (RFC 7591): the console's form and dynamic registration share these.
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, "Scopes are single words.");
const resourceUri = z.url({ protocol: /^https?$/, error: "Resources are absolute http(s) URIs." });
const accessTokenTtl = z.number().int().min(60).max(86_400);
const refreshTokenTtl = z.number().int().min(300).max(365 * 86_400);

type ClientShape = { type: "public" | "confidential"; grantTypes: readonly string[]; redirectUris: readonly string[]; postLogoutRedirectUris: readonly string[] };

function shapeProblems(c: ClientShape): { path: "grantTypes" | "redirectUris" | "postLogoutRedirectUris"; message: string }[] {
  const problems: ReturnType<typeof shapeProblems> = [];
  const usesCode = c.grantTypes.includes("authorization_code");
  if (usesCode && c.redirectUris.length === 0) problems.push({ path: "redirectUris", message: "Add at least one redirect URI." });
  for (const path of ["redirectUris", "postLogoutRedirectUris"] as const) {
    for (const problem of c[path].map(redirectUriProblem)) if (problem) problems.push({ path, message: problem });
  }
  if (c.type === "public" && c.grantTypes.includes("client_credentials")) problems.push({ path: "grantTypes", message: "A public client cannot use client credentials." });
  if (c.grantTypes.includes("refresh_token") && !usesCode) problems.push({ path: "grantTypes", message: "Refresh tokens come with the authorization code grant." });
  return problems;
}

/**
 * A back-channel logout URI, where Gatehouse's server POSTs: the redirect URIs' rules, for an app
 * users sign in to, and a public address, or (set on the console only) a host the operator lists in
 * GATEHOUSE_WEBHOOK_ALLOWED_HOSTS. A self-registered client may not aim Gatehouse at internal hosts.
 */
function backchannelLogoutUriProblem(uri: string, grantTypes: readonly string[], source: "console" | "registration"): string | null {
  if (!grantTypes.includes("authorization_code")) return "Back-channel logout is for apps users sign in to (the authorization code grant).";
  const problem = redirectUriProblem(uri);
  if (problem) return problem;
  const { hostname } = new URL(uri);
  if (source === "registration") return hostRefusal(hostname) || listedInternalHost(hostname) ? `${uri} must be a public address.` : null;
  const refusal = hostRefusal(hostname);
  return refusal && `${uri}: ${refusal}. An internal receiver must be listed in GATEHOUSE_WEBHOOK_ALLOWED_HOSTS.`;
}

export const clientInputSchema = z
  .object({
    name: z.string().trim().min(1, "Name the client.").max(80),
    type: z.enum(["public", "confidential"]),
    grantTypes: z.array(z.enum(GRANT_TYPES)).min(1, "Choose at least one grant type."),
    redirectUris: z.string().max(5000).transform(lines),
    // Where the app may ask to be sent back after signing out (RP-initiated logout), matched exactly.
    postLogoutRedirectUris: z.string().max(5000).default("").transform(lines),
    // Where Gatehouse tells the app's server that a user's sign-in ended (OpenID Connect Back-Channel Logout).
    backchannelLogoutUri: z.string().trim().max(500).default("").transform((uri) => uri || null),
    scopes: z.string().max(1000).transform(lines).pipe(z.array(scopeToken).min(1, "Allow at least one scope.")),
    resources: z.string().max(2000).transform(lines).pipe(z.array(resourceUri)),
    accessTokenTtl: z.coerce.number().pipe(accessTokenTtl),
    refreshTokenTtl: z.coerce.number().pipe(refreshTokenTtl),
    requireDpop: z.boolean(),
    certificateBound: z.boolean(),
  })
  .superRefine((c, issue) => {
    for (const { path, message } of shapeProblems(c)) issue.addIssue({ code: "custom", path: [path], message });
    const logoutProblem = c.backchannelLogoutUri && backchannelLogoutUriProblem(c.backchannelLogoutUri, c.grantTypes, "console");
    if (logoutProblem) issue.addIssue({ code: "custom", path: ["backchannelLogoutUri"], message: logoutProblem });
    // The provider drops certificate binding it cannot check (no header to read the certificate
    // from), and refuses to load a client bound both ways: either would be a promise not kept.
    if (c.certificateBound && !readConfig().GATEHOUSE_CLIENT_CERT_HEADER) {
      issue.addIssue({ code: "custom", path: ["certificateBound"], message: "Certificate binding needs GATEHOUSE_CLIENT_CERT_HEADER: the header in which the trusted TLS proxy forwards the client certificate." });
    }
    if (c.certificateBound && c.requireDpop) issue.addIssue({ code: "custom", path: ["certificateBound"], message: "Bind tokens with DPoP or with the client certificate, not both." });
  });
export type ClientInput = z.output<typeof clientInputSchema>;

const REGISTRATION_FIELD = { grantTypes: "grant_types", redirectUris: "redirect_uris", postLogoutRedirectUris: "post_logout_redirect_uris" } as const;

// Registration metadata as the client sent it, before the provider's defaults are applied.
const registrationSchema = z
  .object({
    redirect_uris: z.array(z.string()).default([]),
    post_logout_redirect_uris: z.array(z.string()).default([]),
    backchannel_logout_uri: z.string().optional(),
    grant_types: z.array(z.string()).default(["authorization_code"]),
    token_endpoint_auth_method: z.string().default("client_secret_basic"),
    // A client that named its own APIs would get Gatehouse-signed tokens for any audience and
    // scope it chose, which the APIs trust: an admin grants API access on the console instead.
    gatehouse_resources: z.array(z.never(), { error: "API access is granted by an admin on the console, not at registration." }).max(0).optional(),
    gatehouse_api_scopes: z.array(z.never(), { error: "API scopes are granted by an admin on the console, not at registration." }).max(0).optional(),
    gatehouse_access_token_ttl: accessTokenTtl.optional(),
    gatehouse_refresh_token_ttl: refreshTokenTtl.optional(),
    // Who is an admin or an analyst, and who is in which team, is for apps an admin trusts with it, on the console.
    scope: z
      .string()
      .superRefine((scope, issue) => {
        for (const name of scope.split(" ").filter((s) => CONSOLE_ONLY_SCOPES.includes(s))) issue.addIssue({ code: "custom", message: `The ${name} scope is granted by an admin on the console, not at registration.` });
      })
      .optional(),
  })
  .superRefine((m, issue) => {
    const shape = { type: m.token_endpoint_auth_method === "none" ? "public" : "confidential", grantTypes: m.grant_types, redirectUris: m.redirect_uris, postLogoutRedirectUris: m.post_logout_redirect_uris } as const;
    for (const { path, message } of shapeProblems(shape)) issue.addIssue({ code: "custom", path: [REGISTRATION_FIELD[path]], message });
    const logoutProblem = m.backchannel_logout_uri && backchannelLogoutUriProblem(m.backchannel_logout_uri, m.grant_types, "registration");
    if (logoutProblem) issue.addIssue({ code: "custom", path: ["backchannel_logout_uri"], message: logoutProblem });
  });

// Deeper than any client metadata is (a JWKS is four levels): past it, nothing is looked at further.
const MAX_METADATA_DEPTH = 16;

/**
 * The first top-level field that cannot be stored, and why: a string PostgreSQL's JSON cannot hold
 * (NUL, a lone surrogate) anywhere inside it, or nesting deeper than metadata has (thousands of
 * levels would overflow the stack of whatever walks it next).
 */
function unstorableField(metadata: Record<string, unknown>): { field: string; message: string } | null {
  const problem = (value: unknown, depth: number): string | null => {
    if (typeof value === "string") return value.includes("\0") || !value.isWellFormed() ? "holds a NUL character or a broken UTF-16 surrogate, which cannot be stored." : null;
    if (typeof value !== "object" || value === null) return null;
    if (depth >= MAX_METADATA_DEPTH) return `is nested more than ${MAX_METADATA_DEPTH} levels deep.`;
    for (const [key, inner] of Object.entries(value)) {
      const found = problem(key, depth + 1) ?? problem(inner, depth + 1);
      if (found) return found;
    }
    return null;
  };
  for (const [field, value] of Object.entries(metadata)) {
    const found = problem(field, 0) ?? problem(value, 0);
    if (found) return { field, message: `${field}: ${found}` };
  }
  return null;
}

/** Why dynamic registration refuses this metadata (the first reason), or null if it does not. */
export function registrationProblem(metadata: Record<string, unknown>): { field: string; message: string } | null {
  const unstorable = unstorableField(metadata);
  if (unstorable) return unstorable;
  // Else the provider (mTLS off) would drop it and give bearer tokens to a client that asked for bound ones.
  if (metadata.tls_client_certificate_bound_access_tokens === true && !readConfig().GATEHOUSE_CLIENT_CERT_HEADER) {
    return { field: "tls_client_certificate_bound_access_tokens", message: "tls_client_certificate_bound_access_tokens: this server takes no client certificates (no trusted TLS proxy forwards them)." };
  }
  const parsed = registrationSchema.safeParse(metadata);
  if (parsed.success) return null;
  const [issue] = parsed.error.issues;
  return { field: String(issue!.path[0]), message: `${issue!.path.join(".")}: ${issue!.message}` };
}

const hashSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");

/** Constant-time check of a presented secret against the stored hash (installed on the provider's Client). */
export function secretMatches(storedHash: string | undefined, presented: string): boolean {
  return !!storedHash && safeEqual(storedHash, hashSecret(presented));
}

function metadataFor(id: string, c: ClientInput): Record<string, unknown> {
  const oidcScopes = c.scopes.filter((s) => (OIDC_SCOPES as readonly string[]).includes(s));
  return {
    client_id: id,
    client_name: c.name,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    // The logout token names the provider session (sid), which the app saw in the ID token.
    ...(c.backchannelLogoutUri ? { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    grant_types: c.grantTypes,
    response_types: c.grantTypes.includes("authorization_code") ? ["code"] : [],
    token_endpoint_auth_method: c.type === "public" ? "none" : "client_secret_basic",
    // The provider only accepts OpenID scopes in `scope`; API scopes belong to resources.
    ...(oidcScopes.length ? { scope: oidcScopes.join(" ") } : {}),
    gatehouse_api_scopes: c.scopes.filter((s) => !(OIDC_SCOPES as readonly string[]).includes(s)),
    dpop_bound_access_tokens: c.requireDpop,
    ...(c.certificateBound ? { tls_client_certificate_bound_access_tokens: true } : {}),
    gatehouse_resources: c.resources,
    gatehouse_access_token_ttl: c.accessTokenTtl,
    gatehouse_refresh_token_ttl: c.refreshTokenTtl,
  };
}

export async function createClient(input: ClientInput, ctx: AuditContext): Promise<{ clientId: string; clientSecret: string | null }> {
  const clientId = `gh_${randomBytes(12).toString("base64url")}`;
  const clientSecret = input.type === "confidential" ? randomBytes(32).toString("base64url") : null;
  await db().oAuthClient.create({
    data: { id: clientId, name: input.name, metadata: metadataFor(clientId, input) as Prisma.InputJsonObject, secretHash: clientSecret ? hashSecret(clientSecret) : null, source: "console" },
  });
  await audit(ctx, {
    type: "admin", action: "oauth.client.create", outcome: "success", resource: { type: "oauth_client", id: clientId },
    metadata: { name: input.name, type: input.type, grantTypes: input.grantTypes, redirectUris: input.redirectUris, scopes: input.scopes, requireDpop: input.requireDpop },
  });
  return { clientId, clientSecret };
}

// The token endpoint looks its client up on every request: a short cache spares the database.
// A change (edit, disable, new secret, deletion) is announced (lib/db/changes.ts) and dropped from
// every instance's cache at once; CACHE_MS bounds what a lost notification can leave behind. This
// is the only cache to clear: oidc-provider's own (Client.find) is keyed by the hash of the
// metadata found here, so changed metadata gets a new Client at once.
const CACHE_MS = 5_000;

// What the provider needs of a stored client: its metadata with the current secret's hash, and the
// secret a rotation replaced, while its overlap lasts.
type ProviderClient = { metadata: AdapterPayload; previousSecret: { hash: string; until: Date } | null };
const providerClients = new Map<string, { value: ProviderClient | undefined; until: number }>();
onChange("oauth_client", (id) => (id === null ? providerClients.clear() : providerClients.delete(id)));

// The client_id a request names, as it could be stored: PostgreSQL text holds no NUL (the query
// would fail, a 500), and no client has a longer id (the console's are 19 characters, registered
// ones 43): neither is looked up, nor cached.
const MAX_CLIENT_ID = 200;

function providerView(row: OAuthClient): ProviderClient {
  const stored = row.metadata as AdapterPayload;
  // The provider holds a client to its `scope` only when it has one: a sign-in client allowed
  // API scopes alone would otherwise get any OpenID scope it asked for (email, profile). It may
  // have `openid` (who signed in, nothing more).
  const signsIn = Array.isArray(stored.response_types) && stored.response_types.includes("code");
  const metadata = stored.scope || !signsIn ? stored : { ...stored, scope: "openid" };
  return {
    metadata: row.secretHash ? { ...metadata, client_secret: row.secretHash } : metadata,
    previousSecret: row.previousSecretHash && row.previousSecretExpiresAt ? { hash: row.previousSecretHash, until: row.previousSecretExpiresAt } : null,
  };
}

/**
 * A client that must have certificate-bound tokens while no trusted proxy forwards certificates
 * (GATEHOUSE_CLIENT_CERT_HEADER unset, or lost in a redeploy): the provider, with mTLS off, would
 * drop the setting and hand it plain bearer tokens. It is refused instead, and the log says why.
 */
function unbindable(row: OAuthClient): boolean {
  if ((row.metadata as AdapterPayload).tls_client_certificate_bound_access_tokens !== true || readConfig().GATEHOUSE_CLIENT_CERT_HEADER) return false;
  console.warn(`[oidc] client ${row.id} requires certificate-bound tokens, but GATEHOUSE_CLIENT_CERT_HEADER is not set: it is refused until it is`);
  return true;
}

/** A client as the provider sees it, or nothing if disabled, unknown or unbindable. */
async function providerClient(id: string): Promise<ProviderClient | undefined> {
  if (id.length > MAX_CLIENT_ID || id.includes("\0")) return undefined;
  const cached = providerClients.get(id);
  if (cached && cached.until > Date.now()) return cached.value;
  const changesBefore = changesSeen("oauth_client");
  const row = await db().oAuthClient.findUnique({ where: { id } });
  const value = !row || row.disabledAt || unbindable(row) ? undefined : providerView(row);
  if (providerClients.size > 10_000) providerClients.clear();
  if (changesSeen("oauth_client") === changesBefore) providerClients.set(id, { value, until: Date.now() + CACHE_MS });
  return value;
}

/** What the provider sees of a client: its metadata with the secret's hash, or nothing if disabled or unknown. */
export async function clientMetadata(id: string): Promise<AdapterPayload | undefined> {
  return (await providerClient(id))?.metadata;
}

/**
 * The provider's check of a client's secret (installed on its Client): the current secret, or the
 * one a rotation replaced until its overlap ends. Both are compared in constant time, always, so
 * the time taken does not tell which one matched.
 */
export async function clientSecretMatches(clientId: string, presented: string): Promise<boolean> {
  const client = await providerClient(clientId);
  if (!client) return false;
  const current = secretMatches(client.metadata.client_secret as string | undefined, presented);
  const previous = secretMatches(client.previousSecret?.hash, presented);
  return current || (previous && client.previousSecret!.until > new Date());
}

/** Dynamic registration (RFC 7591) stores its client here; the plaintext secret never is. */
export class InitialAccessTokenSpentError extends Error {}

/**
 * Stores a client the provider registered. `initialAccessTokenId` (its stored id) is spent in the
 * same transaction: of two registrations with one token, one stores its client and the other
 * throws InitialAccessTokenSpentError, and a client that fails to store leaves the token unspent.
 */
export async function saveRegisteredClient(id: string, payload: AdapterPayload, initialAccessTokenId?: string): Promise<void> {
  const { client_secret: secret, ...metadata } = payload as AdapterPayload & { client_secret?: string };
  const data = {
    name: String(metadata.client_name ?? id).slice(0, 80),
    metadata: metadata as Prisma.InputJsonObject,
    secretHash: secret ? hashSecret(secret) : null,
  };
  await db().$transaction(async (tx) => {
    if (initialAccessTokenId && (await tx.oidcModel.deleteMany({ where: { kind: "InitialAccessToken", id: initialAccessTokenId } })).count === 0) {
      throw new InitialAccessTokenSpentError();
    }
    await tx.oAuthClient.upsert({ where: { id }, create: { id, source: "registration", ...data }, update: data });
  });
  await announceChange("oauth_client", id);
}

export type ClientView = {
  id: string; name: string; type: "public" | "confidential"; source: string; grantTypes: string[]; redirectUris: string[]; postLogoutRedirectUris: string[]; backchannelLogoutUri: string | null; scopes: string[]; resources: string[];
  accessTokenTtl: number; refreshTokenTtl: number; requireDpop: boolean; certificateBound: boolean; disabledAt: Date | null; createdAt: Date; activeGrants: number;
  /** The version an edit starts from (updateClient's `editedFrom`). */
  updatedAt: Date;
  /** Until when the secret a rotation replaced still works; null when none does. */
  previousSecretUntil: Date | null;
};

/** What an admin sets on a client, on the console's form: all but its type and secret. */
export type ClientSettings = Pick<ClientView, "name" | "grantTypes" | "redirectUris" | "postLogoutRedirectUris" | "backchannelLogoutUri" | "scopes" | "resources" | "accessTokenTtl" | "refreshTokenTtl" | "requireDpop" | "certificateBound">;

type MetadataView = Omit<ClientSettings, "name">;

/** What the stored metadata says, as the console and compliance read it (scopes: OpenID ones, then API ones; lifetimes: the ones in force). */
function metadataView(metadata: Prisma.JsonValue): MetadataView {
  const m = metadata as Record<string, unknown>;
  return {
    grantTypes: (m.grant_types as string[]) ?? [], redirectUris: (m.redirect_uris as string[]) ?? [], postLogoutRedirectUris: (m.post_logout_redirect_uris as string[]) ?? [],
    backchannelLogoutUri: (m.backchannel_logout_uri as string | undefined) ?? null,
    scopes: [...String(m.scope ?? "").split(" ").filter(Boolean), ...((m.gatehouse_api_scopes as string[]) ?? [])], resources: (m.gatehouse_resources as string[]) ?? [],
    accessTokenTtl: (m.gatehouse_access_token_ttl as number) ?? DEFAULT_ACCESS_TOKEN_TTL, refreshTokenTtl: (m.gatehouse_refresh_token_ttl as number) ?? DEFAULT_REFRESH_TOKEN_TTL,
    requireDpop: m.dpop_bound_access_tokens === true, certificateBound: m.tls_client_certificate_bound_access_tokens === true,
  };
}

const clientType = (row: { secretHash: string | null }) => (row.secretHash ? "confidential" : "public");

/** Every client, or only the one with `id` (an empty list when there is none). */
export async function listClients(id?: string): Promise<ClientView[]> {
  const where = id === undefined ? {} : { id };
  const rows = await db().oAuthClient.findMany({ where, orderBy: { createdAt: "desc" } });
  const grants = await db().oAuthConsent.groupBy({ by: ["clientId"], where: id === undefined ? {} : { clientId: id }, _count: true });
  const grantCount = new Map(grants.map((g) => [g.clientId, g._count]));
  const now = new Date();
  return rows.map((row) => ({
    id: row.id, name: row.name, type: clientType(row), source: row.source, ...metadataView(row.metadata),
    disabledAt: row.disabledAt, createdAt: row.createdAt, updatedAt: row.updatedAt, activeGrants: grantCount.get(row.id) ?? 0,
    previousSecretUntil: row.previousSecretHash && row.previousSecretExpiresAt && row.previousSecretExpiresAt > now ? row.previousSecretExpiresAt : null,
  }));
}

export type ActiveClient = Pick<ClientView, "id" | "name" | "createdAt" | "redirectUris" | "scopes">;

/** Every client not disabled (no cap), with its redirect URIs and held scopes: what compliance reviews. */
export async function listActiveClients(client: Prisma.TransactionClient = db()): Promise<ActiveClient[]> {
  const rows = await client.oAuthClient.findMany({ where: { disabledAt: null }, select: { id: true, name: true, createdAt: true, metadata: true } });
  return rows.map((row) => {
    const { redirectUris, scopes } = metadataView(row.metadata);
    return { id: row.id, name: row.name, createdAt: row.createdAt, redirectUris, scopes };
  });
}

/** The names of these clients, by id (the console's names, which the policies see as Client.name). */
export async function clientNames(ids: readonly string[]): Promise<Map<string, string>> {
  const rows = ids.length ? await db().oAuthClient.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true } }) : [];
  return new Map(rows.map((row) => [row.id, row.name]));
}

/**
 * Disables or enables a client: "unchanged" when it was so already (when it was first disabled is
 * kept, and nothing is audited), "missing" when there is no such client. A disabled client's
 * grants and tokens are revoked (again, if it was disabled already: nothing is lost by it), so its
 * tokens stop working too, not only its new requests.
 */
export async function setClientDisabled(clientId: string, disabled: boolean, ctx: AuditContext): Promise<"changed" | "unchanged" | "missing"> {
  const { count } = await db().oAuthClient.updateMany({ where: { id: clientId, disabledAt: disabled ? null : { not: null } }, data: { disabledAt: disabled ? new Date() : null } });
  const result = count ? "changed" : (await db().oAuthClient.count({ where: { id: clientId } })) ? "unchanged" : "missing";
  if (result === "changed") {
    await announceChange("oauth_client", clientId);
    await audit(ctx, { type: "admin", action: disabled ? "oauth.client.disable" : "oauth.client.enable", outcome: "success", resource: { type: "oauth_client", id: clientId } });
  }
  if (disabled && result !== "missing") await revokeClientGrants(clientId, ctx);
  return result;
}

// The metadata an edit writes: the console's fields from the form (metadataFor leaves `scope` and
// the mTLS flag out when unset, so the stored ones go first); whatever else the client has, such as
// a registered client's auth method, keys or logout URIs, is kept as it was.
function editedMetadata(stored: Prisma.JsonValue, id: string, input: ClientInput): Record<string, unknown> {
  const { scope: _scope, tls_client_certificate_bound_access_tokens: _mtls, backchannel_logout_uri: _logout, backchannel_logout_session_required: _sid, ...kept } = stored as Record<string, unknown>;
  const { token_endpoint_auth_method: _method, ...edited } = metadataFor(id, input);
  return { ...kept, ...edited };
}

const settingsOf = (name: string, metadata: Prisma.JsonValue): ClientSettings => ({ name, ...metadataView(metadata) });
const pick = (settings: ClientSettings, keys: (keyof ClientSettings)[]) => Object.fromEntries(keys.map((key) => [key, settings[key]]));

export type ClientUpdate = { ok: true; changed: (keyof ClientSettings)[]; grantsRevoked: number | null } | { ok: false; problem: "not_found" | "type_fixed" | "changed_meanwhile" };

// Access a client loses by an edit: grants and tokens made before would go on carrying it (the
// provider checks a client's scopes only when an authorization begins, not at refresh or userinfo).
const NARROWABLE = ["scopes", "grantTypes", "resources"] as const;

/**
 * An admin's edit of a client, held to the rules a new one meets (`input` passed clientInputSchema).
 * The type stays what the client was made as: a public client has no secret to authenticate with,
 * and a confidential one's apps rely on it. Audited with the fields that changed, before and after.
 */
export async function updateClient(clientId: string, input: ClientInput, ctx: AuditContext, { editedFrom }: { editedFrom?: Date } = {}): Promise<ClientUpdate> {
  const row = await db().oAuthClient.findUnique({ where: { id: clientId } });
  if (!row) return { ok: false, problem: "not_found" };
  // `editedFrom`: the version the admin's form showed. Saving over a change made since (another
  // admin, another tab) would undo it unseen.
  if (editedFrom && editedFrom.getTime() !== row.updatedAt.getTime()) return { ok: false, problem: "changed_meanwhile" };
  if (input.type !== clientType(row)) return { ok: false, problem: "type_fixed" };
  const metadata = editedMetadata(row.metadata, clientId, input);
  const before = settingsOf(row.name, row.metadata);
  const after = settingsOf(input.name, metadata as Prisma.JsonObject);
  const changed = (Object.keys(after) as (keyof ClientSettings)[]).filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
  if (changed.length === 0) return { ok: true, changed, grantsRevoked: null };
  const { count } = await db().oAuthClient.updateMany({ where: { id: clientId, updatedAt: row.updatedAt }, data: { name: input.name, metadata: metadata as Prisma.InputJsonObject } });
  await announceChange("oauth_client", clientId);
  if (!count) return { ok: false, problem: (await db().oAuthClient.count({ where: { id: clientId } })) ? "changed_meanwhile" : "not_found" };
  const narrowed = NARROWABLE.filter((key) => before[key].some((value) => !after[key].includes(value)));
  await audit(ctx, {
    type: "admin", action: "oauth.client.update", outcome: "success", resource: { type: "oauth_client", id: clientId },
    metadata: { changed, before: pick(before, changed), after: pick(after, changed), narrowed },
  });
  // Users consent again at their next sign-in, to what the client may have now.
  const grantsRevoked = narrowed.length ? await revokeClientGrants(clientId, ctx) : null;
  return { ok: true, changed, grantsRevoked };
}

/** How long a replaced secret keeps working when the admin asks for an overlap. */
export const SECRET_OVERLAP_MS = 3_600_000;

export type SecretRotation = { ok: true; clientSecret: string; previousSecretUntil: Date | null } | { ok: false; problem: "not_found" | "no_secret" | "rotated_meanwhile" };

/**
 * A new secret for a confidential client, shown once and stored as a hash like the first. With
 * `overlap`, the old one keeps working for SECRET_OVERLAP_MS so the client's deployments can roll
 * over; without, it stops at once. A rotation during an overlap ends the older secret's.
 */
export async function rotateClientSecret(clientId: string, overlap: boolean, ctx: AuditContext): Promise<SecretRotation> {
  const row = await db().oAuthClient.findUnique({ where: { id: clientId }, select: { secretHash: true } });
  if (!row) return { ok: false, problem: "not_found" };
  if (!row.secretHash) return { ok: false, problem: "no_secret" };
  const clientSecret = randomBytes(32).toString("base64url");
  const previousSecretUntil = overlap ? new Date(Date.now() + SECRET_OVERLAP_MS) : null;
  // Replaces the secret read above only: of two rotations at once, the second stops here rather
  // than make the first one's secret, already shown, the "previous" one or drop it.
  const { count } = await db().oAuthClient.updateMany({
    where: { id: clientId, secretHash: row.secretHash },
    data: { secretHash: hashSecret(clientSecret), previousSecretHash: overlap ? row.secretHash : null, previousSecretExpiresAt: previousSecretUntil },
  });
  await announceChange("oauth_client", clientId);
  if (!count) return { ok: false, problem: "rotated_meanwhile" };
  await audit(ctx, {
    type: "admin", action: "oauth.client.secret.rotate", outcome: "success", resource: { type: "oauth_client", id: clientId },
    metadata: { previousSecretUntil: previousSecretUntil?.toISOString() ?? null },
  });
  return { ok: true, clientSecret, previousSecretUntil };
}

/**
 * Deletes a client, then revokes every grant and token it holds. The client goes first, so that no
 * token can be issued to it after the revocation (other instances stop when the change reaches them;
 * what they issue meanwhile belongs to a client the provider no longer finds). JWT access tokens already
 * issued stay valid until they expire, as after disabling.
 */
export async function deleteClient(clientId: string, ctx: AuditContext): Promise<boolean> {
  const row = await db().oAuthClient.findUnique({ where: { id: clientId }, select: { name: true } });
  if (!row) return false;
  const { count } = await db().oAuthClient.deleteMany({ where: { id: clientId } });
  await announceChange("oauth_client", clientId);
  if (!count) return false; // a second click's request, after the first deleted it
  // Recorded at once: a revocation that fails below must not leave the deletion unaudited (the
  // revocation is an audit event of its own).
  await audit(ctx, { type: "admin", action: "oauth.client.delete", outcome: "success", resource: { type: "oauth_client", id: clientId }, metadata: { name: row.name } });
  await revokeClientGrants(clientId, ctx);
  return true;
}
