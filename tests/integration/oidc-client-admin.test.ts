import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { db } from "@/lib/db/client";
import { clientInputSchema, createClient, deleteClient, listClients, rotateClientSecret, SECRET_OVERLAP_MS, updateClient } from "@/lib/oidc/clients";
import { resetDatabase } from "../support/db";
import { ctx, makeUser } from "../support/factories";
import {
  allow, authorize, Browser, continueLogin, interactionUid, introspect, landedAt, portalSignIn, REDIRECT_URI, redeemCode, providerForTests, tokenRequest, webClient, type RelyingParty, type Tokens,
} from "../support/oidc";

// An admin edits, re-keys and deletes OAuth clients: each change is in force at the provider's
// next request (its Client cache is keyed by the metadata, Gatehouse's own is cleared on write).

vi.mock("next/headers", async () => {
  const { nextRequest } = await import("../support/next-request");
  return { headers: async () => nextRequest.headers };
});

const provider = providerForTests();
beforeEach(resetDatabase);
afterEach(() => vi.useRealTimers());

const NEW_REDIRECT_URI = "https://app.example.test/new-callback";
const API = "https://api.example.test";

/** The console form's values for the web client that tests/support/oidc.ts makes, with `changes`. */
const webForm = (changes: Record<string, unknown> = {}) => clientInputSchema.parse({
  name: "Flow app", type: "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: REDIRECT_URI,
  scopes: "openid profile offline_access", resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false, ...changes,
});

async function machineClient() {
  return createClient(clientInputSchema.parse({
    name: "Batch job", type: "confidential", grantTypes: ["client_credentials"], redirectUris: "", scopes: "api:read",
    resources: API, accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
  }), ctx);
}

/** A client credentials request authenticated with `secret`: the HTTP status. */
async function tokenStatus(browser: Browser, clientId: string, secret: string): Promise<number> {
  const response = await tokenRequest(browser, { clientId, clientSecret: secret }, { grant_type: "client_credentials", scope: "api:read", resource: API });
  return response.status;
}

const auditEvents = (action: string, resourceId: string) => db().auditEvent.findMany({ where: { action, resourceId }, orderBy: { seq: "asc" } });

describe("editing a client", () => {
  it("is in force at the authorization endpoint at once: a removed redirect URI is refused, the new one accepted", async () => {
    const web = await webClient();
    const browser = new Browser(provider.origin);
    // The provider has looked the client up (and keeps a Client for its metadata) before the edit.
    expect(landedAt((await authorize(browser, web)).result).pathname).toMatch(/^\/interaction\//);

    expect(await updateClient(web.clientId, webForm({ redirectUris: NEW_REDIRECT_URI }), ctx)).toEqual({ ok: true, changed: ["redirectUris"], grantsRevoked: null });

    const { result: removed } = await authorize(browser, web);
    if (!("response" in removed)) throw new Error(`redirected to ${removed.landed.href}`);
    expect(removed.response.status).toBe(400);
    expect(await removed.response.text()).toContain("invalid_redirect_uri");
    expect(landedAt((await authorize(browser, { ...web, redirectUri: NEW_REDIRECT_URI })).result).pathname).toMatch(/^\/interaction\//);
  });

  it("is audited with the fields that changed, before and after, and never a secret", async () => {
    const web = await webClient();
    const edit = webForm({ name: "Renamed app", scopes: "openid profile offline_access api:read", resources: API, accessTokenTtl: "300", requireDpop: true });
    expect(await updateClient(web.clientId, edit, ctx)).toEqual({ ok: true, changed: ["name", "scopes", "resources", "accessTokenTtl", "requireDpop"], grantsRevoked: null });

    const [event] = await auditEvents("oauth.client.update", web.clientId);
    expect(event!.metadata).toEqual({
      changed: ["name", "scopes", "resources", "accessTokenTtl", "requireDpop"],
      before: { name: "Flow app", scopes: ["openid", "profile", "offline_access"], resources: [], accessTokenTtl: 600, requireDpop: false },
      after: { name: "Renamed app", scopes: ["openid", "profile", "offline_access", "api:read"], resources: [API], accessTokenTtl: 300, requireDpop: true },
      narrowed: [],
    });
    const row = await db().oAuthClient.findUniqueOrThrow({ where: { id: web.clientId } });
    expect(JSON.stringify(event!.metadata)).not.toContain(row.secretHash!);
    expect(JSON.stringify(event!.metadata)).not.toContain(web.clientSecret!);
    const [view] = await listClients(web.clientId);
    expect(view).toMatchObject({ name: "Renamed app", resources: [API], accessTokenTtl: 300, requireDpop: true, type: "confidential" });

    // The same values again: nothing to write, nothing to audit.
    expect(await updateClient(web.clientId, edit, ctx)).toEqual({ ok: true, changed: [], grantsRevoked: null });
    expect(await auditEvents("oauth.client.update", web.clientId)).toHaveLength(1);

    // A back-channel logout URI set, then cleared: stored with the sid it asks for, then gone.
    const storedMetadata = async () => (await db().oAuthClient.findUniqueOrThrow({ where: { id: web.clientId } })).metadata as Record<string, unknown>;
    const logout = "https://app.example.test/backchannel-logout";
    expect(await updateClient(web.clientId, { ...edit, backchannelLogoutUri: logout }, ctx)).toMatchObject({ ok: true, changed: ["backchannelLogoutUri"] });
    expect(await storedMetadata()).toMatchObject({ backchannel_logout_uri: logout, backchannel_logout_session_required: true });
    expect(await updateClient(web.clientId, edit, ctx)).toMatchObject({ ok: true, changed: ["backchannelLogoutUri"] });
    expect(await storedMetadata()).not.toHaveProperty("backchannel_logout_uri");
  });

  it("keeps the client's type, and refuses an unknown client", async () => {
    const web = await webClient();
    const before = await db().oAuthClient.findUniqueOrThrow({ where: { id: web.clientId } });
    expect(await updateClient(web.clientId, webForm({ type: "public", name: "Now public" }), ctx)).toEqual({ ok: false, problem: "type_fixed" });
    expect(await updateClient("gh_no_such_client", webForm(), ctx)).toEqual({ ok: false, problem: "not_found" });
    expect(await db().oAuthClient.findUniqueOrThrow({ where: { id: web.clientId } })).toEqual(before);
    expect(await db().auditEvent.count({ where: { action: "oauth.client.update" } })).toBe(0);
  });

  it("keeps what the console does not manage: a registered client's auth method; its logout URIs show on the form", async () => {
    const metadata = {
      client_id: "registered-app", client_name: "Registered", redirect_uris: [REDIRECT_URI], grant_types: ["authorization_code"], response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post", post_logout_redirect_uris: ["https://app.example.test/bye"], scope: "openid email",
    };
    await db().oAuthClient.create({ data: { id: "registered-app", name: "Registered", metadata, secretHash: "0".repeat(64), source: "registration" } });
    const shown = (await listClients()).find((c) => c.id === "registered-app")!;
    expect(shown.postLogoutRedirectUris).toEqual(["https://app.example.test/bye"]);
    const edit = webForm({ name: "Registered", grantTypes: ["authorization_code"], scopes: "profile", postLogoutRedirectUris: shown.postLogoutRedirectUris.join("\n") });
    // Registered without lifetimes, it had the provider's defaults: the form's 600 s access tokens are one.
    // Its scopes narrow (openid and email go): its grants, none yet, are revoked.
    expect(await updateClient("registered-app", edit, ctx)).toEqual({ ok: true, changed: ["scopes", "refreshTokenTtl"], grantsRevoked: 0 });
    const stored = (await db().oAuthClient.findUniqueOrThrow({ where: { id: "registered-app" } })).metadata;
    expect(stored).toMatchObject({ token_endpoint_auth_method: "client_secret_post", post_logout_redirect_uris: ["https://app.example.test/bye"], scope: "profile" });
  });
});

describe("rotating a client's secret", () => {
  it("without overlap: the old secret fails at once, the new one works; stored as a hash, audited", async () => {
    const machine = await machineClient();
    const browser = new Browser(provider.origin);
    expect(await tokenStatus(browser, machine.clientId, machine.clientSecret!)).toBe(200);

    const rotation = await rotateClientSecret(machine.clientId, false, ctx);
    if (!rotation.ok) throw new Error(rotation.problem);
    expect(rotation.previousSecretUntil).toBeNull();
    expect(await tokenStatus(browser, machine.clientId, machine.clientSecret!)).toBe(401);
    expect(await tokenStatus(browser, machine.clientId, rotation.clientSecret)).toBe(200);

    const row = await db().oAuthClient.findUniqueOrThrow({ where: { id: machine.clientId } });
    expect(JSON.stringify(row)).not.toContain(rotation.clientSecret);
    const events = await auditEvents("oauth.client.secret.rotate", machine.clientId);
    expect(events.map((e) => e.metadata)).toEqual([{ previousSecretUntil: null }]);
    expect(JSON.stringify(events.map((e) => e.metadata))).not.toContain(rotation.clientSecret);
  });

  it("with overlap: the old secret works for the hour only, and a second rotation ends the first one's overlap", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const machine = await machineClient();
    const browser = new Browser(provider.origin);
    const rotation = await rotateClientSecret(machine.clientId, true, ctx);
    if (!rotation.ok) throw new Error(rotation.problem);
    expect(rotation.previousSecretUntil).toEqual(new Date(Date.now() + SECRET_OVERLAP_MS));
    expect((await listClients(machine.clientId))[0]!.previousSecretUntil).toEqual(rotation.previousSecretUntil);
    expect(await tokenStatus(browser, machine.clientId, machine.clientSecret!)).toBe(200);
    expect(await tokenStatus(browser, machine.clientId, rotation.clientSecret)).toBe(200);

    vi.setSystemTime(Date.now() + SECRET_OVERLAP_MS - 60_000);
    expect(await tokenStatus(browser, machine.clientId, machine.clientSecret!)).toBe(200);
    vi.setSystemTime(Date.now() + 120_000);
    expect(await tokenStatus(browser, machine.clientId, machine.clientSecret!)).toBe(401);
    expect(await tokenStatus(browser, machine.clientId, rotation.clientSecret)).toBe(200);
    expect((await listClients(machine.clientId))[0]!.previousSecretUntil).toBeNull();
    expect((await auditEvents("oauth.client.secret.rotate", machine.clientId))[0]!.metadata).toEqual({ previousSecretUntil: rotation.previousSecretUntil!.toISOString() });

    const again = await rotateClientSecret(machine.clientId, true, ctx);
    const third = await rotateClientSecret(machine.clientId, true, ctx);
    if (!again.ok || !third.ok) throw new Error("rotation refused");
    expect(await tokenStatus(browser, machine.clientId, rotation.clientSecret)).toBe(401);
    expect(await tokenStatus(browser, machine.clientId, again.clientSecret)).toBe(200);
    expect(await tokenStatus(browser, machine.clientId, third.clientSecret)).toBe(200);
  });

  it("is refused for a public client, which has no secret, and for an unknown one", async () => {
    const spa = await webClient({ type: "public" });
    expect(await rotateClientSecret(spa.clientId, false, ctx)).toEqual({ ok: false, problem: "no_secret" });
    expect(await rotateClientSecret("gh_no_such_client", true, ctx)).toEqual({ ok: false, problem: "not_found" });
    expect(await db().oAuthClient.findUniqueOrThrow({ where: { id: spa.clientId } })).toMatchObject({ secretHash: null, previousSecretHash: null });
    expect(await db().auditEvent.count({ where: { action: "oauth.client.secret.rotate" } })).toBe(0);
  });
});

describe("deleting a client", () => {
  /** A user who let the web client in: its tokens. */
  async function signedInTokens(web: RelyingParty, browser: Browser): Promise<Tokens> {
    const user = await makeUser();
    const signIn = await portalSignIn(browser, user.id);
    const { verifier, result } = await authorize(browser, web, { scope: "openid offline_access", prompt: "consent" });
    const login = landedAt((await continueLogin(browser, interactionUid(landedAt(result))!, user.id, signIn))!);
    const back = landedAt(await allow(browser, interactionUid(login)!, user.id, true));
    return (await (await redeemCode(browser, web, back.searchParams.get("code")!, verifier)).json()) as Tokens;
  }

  it("revokes its grants and tokens, and the client gets no token nor authorization any more; audited", async () => {
    const web = await webClient();
    const browser = new Browser(provider.origin);
    const tokens = await signedInTokens(web, browser);
    expect(await introspect(browser, web, tokens.access_token)).toMatchObject({ active: true });
    const other = await webClient();
    await signedInTokens(other, new Browser(provider.origin));

    expect(await deleteClient(web.clientId, ctx)).toBe(true);

    const refresh = await tokenRequest(browser, web, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! });
    expect(refresh.status).toBe(401);
    expect(await refresh.json()).toMatchObject({ error: "invalid_client" });
    const { result } = await authorize(browser, web);
    if (!("response" in result)) throw new Error(`redirected to ${result.landed.href}`);
    expect(result.response.status).toBe(400);
    expect(await result.response.text()).toContain("invalid_client");

    const left = await db().oidcModel.findMany({ where: { kind: { in: ["Grant", "AccessToken", "RefreshToken", "AuthorizationCode"] } } });
    expect(left.length).toBeGreaterThan(0); // the other client's
    expect(left.every((m) => (m.payload as { clientId?: string }).clientId === other.clientId)).toBe(true);
    expect(await db().oAuthConsent.count({ where: { clientId: web.clientId } })).toBe(0);
    expect(await listClients(web.clientId)).toEqual([]);
    expect((await auditEvents("oauth.client.delete", web.clientId)).map((e) => e.metadata)).toEqual([{ name: "Flow app" }]);
    expect((await auditEvents("oauth.client.grants.revoke", web.clientId)).map((e) => e.metadata)).toEqual([{ grants: 1 }]);
    expect(await auditEvents("oauth.client.grants.revoke", web.clientId)).toHaveLength(1);

    expect(await deleteClient(web.clientId, ctx)).toBe(false);
    expect(await auditEvents("oauth.client.delete", web.clientId)).toHaveLength(1);
  });

  it("a machine client's credentials stop working", async () => {
    const machine = await machineClient();
    const browser = new Browser(provider.origin);
    expect(await tokenStatus(browser, machine.clientId, machine.clientSecret!)).toBe(200);
    expect(await deleteClient(machine.clientId, ctx)).toBe(true);
    expect(await tokenStatus(browser, machine.clientId, machine.clientSecret!)).toBe(401);
    expect(await db().oidcModel.count({ where: { kind: "ClientCredentials" } })).toBe(0);
  });
});
