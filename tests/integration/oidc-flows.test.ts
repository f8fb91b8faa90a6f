import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { db, pgPool } from "@/lib/db/client";
import { storedTokenId } from "@/lib/oidc/adapter";
import { resetDatabase } from "../support/db";
import { startLogoutReceiver } from "../support/logout-receiver";
import { ctx, makeUser } from "../support/factories";
import { setDisabled } from "@/lib/auth/users";
import { endSession } from "@/lib/auth/sessions";
import { logOutOfApps } from "@/lib/oidc/backchannel";
import {
  allow, authorize, Browser, clientRequest, continueLogin, idTokenClaims, interactionUid, introspect, landedAt, portalSignIn, providerForm, redeemCode, providerForTests, REDIRECT_URI, tokenRequest, webClient, type RelyingParty, type Tokens,
} from "../support/oidc";
import { clientInputSchema, createClient, setClientDisabled, updateClient } from "@/lib/oidc/clients";
import { auditFiltersSchema, searchAuditEvents } from "@/lib/audit";
import { completeConsent, loadInteraction } from "@/lib/oidc/interactions";

// The authorization code flow end to end against the real provider and PostgreSQL: a browser with
// a portal session, the login and consent steps the interaction page takes, and the client's
// token requests.

vi.mock("next/headers", async () => {
  const { nextRequest } = await import("../support/next-request");
  return { headers: async () => nextRequest.headers };
});

const provider = providerForTests();
beforeEach(resetDatabase);

/** A user signed in to the portal in a new browser, who lets the app in (consent remembered or not): the code and its PKCE verifier. */
async function signedInFlow(rp: RelyingParty, options: { remember?: boolean; params?: Record<string, string> } = {}) {
  const user = await makeUser();
  const browser = new Browser(provider.origin);
  const signIn = await portalSignIn(browser, user.id);
  const { verifier, result } = await authorize(browser, rp, { scope: "openid offline_access", prompt: "consent", ...options.params });
  const login = landedAt((await continueLogin(browser, interactionUid(landedAt(result))!, user.id, signIn))!);
  const back = landedAt(await allow(browser, interactionUid(login)!, user.id, options.remember ?? true));
  return { user, browser, signIn, verifier, code: back.searchParams.get("code")! };
}

describe("consent", () => {
  it("a client disabled while the user reads the consent page gets no grant when they allow it", async () => {
    const web = await webClient();
    const user = await makeUser();
    const browser = new Browser(provider.origin);
    const signIn = await portalSignIn(browser, user.id);
    const { result } = await authorize(browser, web, { scope: "openid offline_access", prompt: "consent" });
    const consentPage = landedAt((await continueLogin(browser, interactionUid(landedAt(result))!, user.id, signIn))!);
    expect(await setClientDisabled(web.clientId, true, ctx)).toBe("changed");
    browser.usePage(consentPage.pathname);
    expect(await completeConsent(interactionUid(consentPage)!, user.id, true, ctx)).toBeNull();
    expect(await db().oAuthConsent.count({ where: { clientId: web.clientId } })).toBe(0);
    expect(await db().oidcModel.count({ where: { kind: "Grant" } })).toBe(0);
  });

  it("a second Allow (a double click) before the browser moves on keeps the first one's grant: one grant, one consent, one event", async () => {
    const web = await webClient();
    const user = await makeUser();
    const browser = new Browser(provider.origin);
    const signIn = await portalSignIn(browser, user.id);
    const { verifier, result } = await authorize(browser, web, { scope: "openid offline_access", prompt: "consent" });
    const consentPage = landedAt((await continueLogin(browser, interactionUid(landedAt(result))!, user.id, signIn))!);
    browser.usePage(consentPage.pathname);
    const first = await completeConsent(interactionUid(consentPage)!, user.id, true, ctx);
    expect(await completeConsent(interactionUid(consentPage)!, user.id, true, ctx)).toBe(first);
    const grants = await db().oidcModel.findMany({ where: { kind: "Grant" }, select: { id: true } });
    expect(grants).toHaveLength(1);
    expect(await db().oAuthConsent.findMany({ where: { clientId: web.clientId }, select: { grantId: true } })).toEqual([{ grantId: grants[0]!.id }]);
    expect(await db().auditEvent.count({ where: { action: "oauth.consent.grant" } })).toBe(1);
    const back = landedAt(await browser.follow(first!));
    expect((await redeemCode(browser, web, back.searchParams.get("code")!, verifier)).status).toBe(200);
  });
});

describe("one-time credentials", () => {
  it("two parallel refreshes with one refresh token: one gets tokens, and the grant is revoked as on any reuse", async () => {
    const web = await webClient();
    const { browser, verifier, code } = await signedInFlow(web);
    const tokens = (await (await redeemCode(browser, web, code, verifier)).json()) as Tokens;
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const refresh = (token: string) => tokenRequest(browser, web, { grant_type: "refresh_token", refresh_token: token });
    const answers = await Promise.all([refresh(tokens.refresh_token!), refresh(tokens.refresh_token!)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    const refused = answers.find((a) => a.status === 400)!;
    expect(await refused.json()).toMatchObject({ error: "invalid_grant" });
    // The winner's new tokens die with the grant (stored after the revocation or not): neither chain goes on.
    const winner = (await answers.find((a) => a.status === 200)!.json()) as Tokens;
    expect(await (await refresh(winner.refresh_token!)).json()).toMatchObject({ error: "invalid_grant" });
    expect(await introspect(browser, web, winner.access_token)).toEqual({ active: false });
    expect(await db().oidcModel.count({ where: { kind: "Grant" } })).toBe(0);
    expect(await db().auditEvent.count({ where: { action: "oauth.refresh_token.reuse", resourceId: web.clientId } })).toBe(1);
    expect(await db().oAuthConsent.count()).toBe(0);
  });

  it("two parallel redemptions of one authorization code: one gets tokens", async () => {
    const web = await webClient();
    const { user, browser, verifier, code } = await signedInFlow(web);
    const answers = await Promise.all([redeemCode(browser, web, code, verifier), redeemCode(browser, web, code, verifier)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    expect(await answers.find((a) => a.status === 400)!.json()).toMatchObject({ error: "invalid_grant" });
    expect(await db().oidcModel.count({ where: { kind: "Grant" } })).toBe(0);
    // A security event, like a spent refresh token's (an intercepted code is the usual cause).
    expect(await db().auditEvent.findMany({ where: { action: "oauth.authorization_code.reuse" }, select: { type: true, outcome: true, resourceId: true } })).toEqual([{ type: "security", outcome: "blocked", resourceId: web.clientId }]);
    // The client presented it, before any account was loaded: whose grant it was is recorded, so a response can act on that user.
    expect(await db().auditEvent.findFirst({ where: { action: "oauth.authorization_code.reuse" } })).toMatchObject({ actorType: "client", metadata: expect.objectContaining({ accountId: user.id }) });
  });
});

describe("the login prompt", () => {
  it("max_age: a portal sign-in older than it does not complete the login; after signing in again, auth_time is fresh", async () => {
    const web = await webClient();
    const user = await makeUser();
    const browser = new Browser(provider.origin);
    const old = await portalSignIn(browser, user.id, { at: new Date(Date.now() - 10 * 60_000) });
    const { verifier, result } = await authorize(browser, web, { max_age: "60" });
    const uid = interactionUid(landedAt(result))!;
    browser.usePage(`/interaction/${uid}`);
    expect(await loadInteraction(uid)).toMatchObject({ prompt: "login", maxAge: 60 });

    // "Continue as…" with the ten-minute-old sign-in is refused (the page offers "Sign in again").
    expect(await continueLogin(browser, uid, user.id, old)).toBeNull();
    const fresh = await portalSignIn(browser, user.id);
    const consent = landedAt((await continueLogin(browser, uid, user.id, fresh))!);
    const back = landedAt(await allow(browser, interactionUid(consent)!, user.id, true));
    const tokens = (await (await redeemCode(browser, web, back.searchParams.get("code")!, verifier)).json()) as Tokens;
    expect(idTokenClaims(tokens).auth_time).toBe(Math.floor(fresh.authTime.getTime() / 1000));
  });
});

describe("an app that asks for a stronger sign-in (acr_values)", () => {
  it("gets the login page until the sign-in has the factor, and an ID token whose acr says which class it met", async () => {
    const web = await webClient();
    const discovery = (await (await fetch(`${provider.origin}/.well-known/openid-configuration`)).json()) as { acr_values_supported?: string[] };
    expect(discovery.acr_values_supported).toEqual(["pwd", "mfa", "phr"]);

    // No class asked: the ID token says what the sign-in was.
    const { user, browser, verifier, code } = await signedInFlow(web);
    const plain = (await (await redeemCode(browser, web, code, verifier)).json()) as Tokens;
    expect(idTokenClaims(plain)).toMatchObject({ acr: "pwd", amr: ["pwd"] });

    // A password-only provider session does not satisfy mfa: silent sign-in is refused, the login page asks.
    expect(landedAt((await authorize(browser, web, { prompt: "none", acr_values: "mfa" })).result).searchParams.get("error")).toBe("login_required");
    const { verifier: mfaVerifier, result } = await authorize(browser, web, { acr_values: "mfa phr" });
    const uid = interactionUid(landedAt(result))!;
    browser.usePage(`/interaction/${uid}`);
    expect(await loadInteraction(uid)).toMatchObject({ prompt: "login", strengthAsked: "mfa" });
    const passwordOnly = { authMethods: ["password"], authTime: new Date() };
    expect(await continueLogin(browser, uid, user.id, passwordOnly)).toBeNull();
    // Confirmed with a code (step-up adds the factor to the portal session): now it completes.
    const back = landedAt((await continueLogin(browser, uid, user.id, { ...passwordOnly, authMethods: ["password", "totp"] }))!);
    const strong = (await (await redeemCode(browser, web, back.searchParams.get("code")!, mfaVerifier)).json()) as Tokens;
    // The strongest class asked for that the sign-in met.
    expect(idTokenClaims(strong)).toMatchObject({ acr: "mfa", amr: ["pwd", "otp", "mfa"] });
    // Single sign-on: each request gets the class it asked for that the same sign-in met.
    const silently = async (acrValues: string) => {
      const { verifier: v, result: r } = await authorize(browser, web, { prompt: "none", acr_values: acrValues });
      return idTokenClaims((await (await redeemCode(browser, web, landedAt(r).searchParams.get("code")!, v)).json()) as Tokens).acr;
    };
    expect(await silently("mfa")).toBe("mfa");
    expect(await silently("pwd")).toBe("pwd");
    expect(await silently("pwd mfa")).toBe("mfa");

    // A passkey is asked for by name: a code does not meet it.
    const { result: phr } = await authorize(browser, web, { acr_values: "phr" });
    const phrUid = interactionUid(landedAt(phr))!;
    browser.usePage(`/interaction/${phrUid}`);
    expect(await loadInteraction(phrUid)).toMatchObject({ strengthAsked: "phishing_resistant" });
    expect(await continueLogin(browser, phrUid, user.id, { ...passwordOnly, authMethods: ["password", "totp"] })).toBeNull();
    // A class Gatehouse does not know asks for nothing in particular.
    const { result: unknown } = await authorize(browser, web, { prompt: "none", acr_values: "urn:example:gold" });
    expect(landedAt(unknown).searchParams.get("code")).toEqual(expect.any(String));
  });
});

describe("an app that names the account it wants (id_token_hint)", () => {
  it("shows which one, so the page offers another account instead of continuing as the wrong one (which only came back)", async () => {
    const web = await webClient();
    const { browser: first, verifier, code, user: alice } = await signedInFlow(web);
    const redeemed = await redeemCode(first, web, code, verifier);
    expect(redeemed.status).toBe(200);
    const tokens = (await redeemed.json()) as Tokens;
    const bob = await makeUser();
    const browser = new Browser(provider.origin);
    await portalSignIn(browser, bob.id);
    const { result } = await authorize(browser, web, { id_token_hint: tokens.id_token! });
    expect(landedAt(result).pathname).toMatch(/^\/interaction\//);
    const uid = interactionUid(landedAt(result))!;
    browser.usePage(`/interaction/${uid}`);
    expect(await loadInteraction(uid)).toMatchObject({ prompt: "login", hintedAccountId: alice.id });
  });
});

describe("single sign-on after signing in to the portal again", () => {
  it("asks the login prompt again, so the app's ID token describes the new sign-in, not the old one's methods and time", async () => {
    const web = await webClient();
    const { user, browser, verifier, code } = await signedInFlow(web, { remember: true });
    await redeemCode(browser, web, code, verifier);
    const silently = async () => landedAt((await authorize(browser, web, { prompt: "none" })).result);
    expect((await silently()).searchParams.get("code")).toEqual(expect.any(String));

    // Signed out of the portal and in again in this browser, now with a passkey, a minute later.
    await db().session.updateMany({ where: { userId: user.id }, data: { endedAt: new Date(), endReason: "sign_out" } });
    const again = await portalSignIn(browser, user.id, { authMethods: ["passkey"], at: new Date(Date.now() + 60_000) });
    expect((await silently()).searchParams.get("error")).toBe("login_required");

    const { verifier: nextVerifier, result } = await authorize(browser, web, { max_age: "600" });
    const back = landedAt((await continueLogin(browser, interactionUid(landedAt(result))!, user.id, again))!);
    const tokens = (await (await redeemCode(browser, web, back.searchParams.get("code")!, nextVerifier)).json()) as Tokens;
    expect(idTokenClaims(tokens)).toMatchObject({ auth_time: Math.floor(again.authTime.getTime() / 1000), amr: ["hwk", "mfa"] });
    // Recorded as the provider session's sign-in: silent sign-in works again.
    expect((await silently()).searchParams.get("code")).toEqual(expect.any(String));
  });
});

describe("back-channel logout", () => {
  it("a Gatehouse session that ends (here revoked) signs the user out of the apps that asked: a signed logout token with the ID token's sid", async () => {
    process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS = "127.0.0.1";
    const [app, down] = [await startLogoutReceiver(), await startLogoutReceiver({ status: 500 })];
    try {
      const web = await webClient({ backchannelLogoutUri: app.url });
      const { user, browser, signIn, verifier, code } = await signedInFlow(web);
      const idToken = idTokenClaims((await (await redeemCode(browser, web, code, verifier)).json()) as Tokens);
      expect(idToken.sid).toEqual(expect.any(String));
      // Another app in the same browser, whose endpoint fails: the failure is on the record.
      const other = await webClient({ backchannelLogoutUri: down.url });
      const { result } = await authorize(browser, other, { scope: "openid", prompt: "consent" });
      await allow(browser, interactionUid(landedAt(result))!, user.id, true);

      const discovery = (await (await fetch(`${provider.origin}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(discovery).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
      expect(await logOutOfApps()).toBe(0);
      expect(await endSession(user.id, signIn.sessionId, "revoked_by_user", ctx)).toBe(true);
      expect(await logOutOfApps()).toBe(1);
      expect(app.tokens).toHaveLength(1);
      const { payload, protectedHeader } = await jwtVerify(app.tokens[0]!, createRemoteJWKSet(new URL(`${provider.origin}/oidc/jwks`)), { issuer: idToken.iss, audience: web.clientId });
      expect(protectedHeader.typ).toBe("logout+jwt");
      expect(payload).toMatchObject({ sub: user.id, sid: idToken.sid, events: { "http://schemas.openid.net/event/backchannel-logout": {} } });
      expect(payload).not.toHaveProperty("nonce");
      expect(down.tokens).toHaveLength(1);
      const outcomes = await db().auditEvent.findMany({ where: { action: "oauth.backchannel_logout" }, select: { outcome: true, resourceId: true } });
      expect(outcomes).toHaveLength(2);
      expect(outcomes).toEqual(expect.arrayContaining([{ outcome: "success", resourceId: web.clientId }, { outcome: "failure", resourceId: other.clientId }]));
      // Sent once: the browser's provider session is gone, so silent sign-in asks again.
      expect(await logOutOfApps()).toBe(0);
      expect(landedAt((await authorize(browser, web, { prompt: "none" })).result).searchParams.get("error")).toBe("login_required");

      // Signed in again, then the account is disabled (its grants revoked at once): the app is told too.
      const again = await portalSignIn(browser, user.id);
      const { result: login } = await authorize(browser, web, { scope: "openid" });
      await continueLogin(browser, interactionUid(landedAt(login))!, user.id, again);
      await setDisabled(user.id, true, ctx);
      expect(app.tokens).toHaveLength(2);
      expect(decodeJwt(app.tokens[1]!)).toMatchObject({ sub: user.id, aud: web.clientId });
    } finally {
      delete process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS;
      await Promise.all([app.close(), down.close()]);
    }
  });

  it("is refused for a URI the redirect URIs' rules refuse, and for a client users do not sign in to", () => {
    const base = { name: "App", type: "confidential", grantTypes: ["authorization_code"], redirectUris: REDIRECT_URI, scopes: "openid", resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false };
    expect(clientInputSchema.safeParse({ ...base, backchannelLogoutUri: "http://app.example.test/logout" }).error?.issues).toEqual([expect.objectContaining({ path: ["backchannelLogoutUri"] })]);
    expect(clientInputSchema.safeParse({ ...base, grantTypes: ["client_credentials"], redirectUris: "", scopes: "api:read", backchannelLogoutUri: "https://app.example.test/logout" }).error?.issues).toEqual([expect.objectContaining({ path: ["backchannelLogoutUri"] })]);
    expect(clientInputSchema.parse({ ...base, backchannelLogoutUri: "" }).backchannelLogoutUri).toBeNull();
  });
});

describe("claims", () => {
  it("the roles scope gives the app the user's Gatehouse roles at userinfo; a client not allowed it cannot ask", async () => {
    const web = await webClient({ scopes: "openid roles offline_access" });
    const { browser, verifier, code } = await signedInFlow(web, { params: { scope: "openid roles offline_access" } });
    const tokens = (await (await redeemCode(browser, web, code, verifier)).json()) as Tokens;
    const userinfo = (await (await fetch(`${provider.origin}/oidc/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as { sub: string; roles?: string[] };
    expect(userinfo).toMatchObject({ sub: idTokenClaims(tokens).sub, roles: ["user"] });

    const other = await webClient({ scopes: "openid offline_access" });
    const { result } = await authorize(new Browser(provider.origin), other, { scope: "openid roles" });
    expect(landedAt(result).searchParams.get("error")).toBe("invalid_scope");
  });

  it("an admin taking the roles scope away revokes the grants that carry it: the old access and refresh tokens stop working", async () => {
    const web = await webClient({ scopes: "openid roles offline_access" });
    const { browser, verifier, code } = await signedInFlow(web, { params: { scope: "openid roles offline_access" } });
    const tokens = (await (await redeemCode(browser, web, code, verifier)).json()) as Tokens;
    const edit = (scopes: string) => updateClient(web.clientId, clientInputSchema.parse({
      name: "Flow app", type: "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: REDIRECT_URI,
      scopes, resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    // Adding a scope takes nothing away: grants stay.
    expect(await edit("openid profile roles offline_access")).toMatchObject({ ok: true, grantsRevoked: null });
    expect((await fetch(`${provider.origin}/oidc/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);

    expect(await edit("openid profile offline_access")).toMatchObject({ ok: true, changed: ["scopes"], grantsRevoked: 1 });
    expect((await fetch(`${provider.origin}/oidc/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    expect(await (await tokenRequest(browser, web, { grant_type: "refresh_token", refresh_token: tokens.refresh_token! })).json()).toMatchObject({ error: "invalid_grant" });
    const update = await db().auditEvent.findFirstOrThrow({ where: { action: "oauth.client.update" }, orderBy: { seq: "desc" } });
    expect(update.metadata).toMatchObject({ narrowed: ["scopes"] });
  });

  it("the groups scope gives the app the ids of the user's groups, as they are when it asks", async () => {
    const web = await webClient({ scopes: "openid groups offline_access" });
    const { user, browser, verifier, code } = await signedInFlow(web, { params: { scope: "openid groups offline_access" } });
    const tokens = (await (await redeemCode(browser, web, code, verifier)).json()) as Tokens;
    const groupsAtUserinfo = async () => ((await (await fetch(`${provider.origin}/oidc/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as { groups?: string[] }).groups;
    expect(await groupsAtUserinfo()).toEqual([]);
    await db().group.createMany({ data: [{ id: "secops", name: "Security operations" }, { id: "eng", name: "Engineering" }, { id: "sales", name: "Sales" }] });
    await db().groupMember.createMany({ data: [{ groupId: "secops", userId: user.id }, { groupId: "eng", userId: user.id }] });
    expect(await groupsAtUserinfo()).toEqual(["eng", "secops"]);
  });
});

describe("consent", () => {
  const silently = (browser: Browser, rp: RelyingParty) => authorize(browser, rp, { prompt: "none" }).then(({ result }) => landedAt(result).searchParams);

  it("given for this sign-in only, is asked again next time: prompt=none gets consent_required", async () => {
    const web = await webClient();
    const { browser } = await signedInFlow(web, { remember: false });
    expect((await silently(browser, web)).get("error")).toBe("consent_required");
  });

  it("remembered, lets prompt=none through", async () => {
    const web = await webClient();
    const { browser } = await signedInFlow(web, { remember: true });
    expect((await silently(browser, web)).get("code")).toEqual(expect.any(String));
  });
});

describe("sign-out", () => {
  const portalSessionEnded = async (sessionId: string) => (await db().session.findUniqueOrThrow({ where: { id: sessionId } })).endedAt !== null;
  const lastEndSession = async () => (await db().auditEvent.findFirstOrThrow({ where: { action: "oauth.end_session" }, orderBy: { seq: "desc" } })).metadata;

  it("\"Sign out everywhere\" ends the portal session of the provider session's user", async () => {
    const web = await webClient();
    const { browser, signIn } = await signedInFlow(web);
    const page = (await browser.follow(`/oidc/session/end?client_id=${web.clientId}`)) as { response: Response };
    const { action, fields } = providerForm(await page.response.text());
    const done = (await browser.follow(action, { form: { ...fields, logout: "yes" } })) as { response: Response };
    expect(await done.response.text()).toContain("You are signed out");
    expect(await portalSessionEnded(signIn.sessionId)).toBe(true);
    expect(await lastEndSession()).toMatchObject({ signedOutOfPortal: true });
  });

  it("sends the user back to a sign-out URI the client registered, and refuses one it did not", async () => {
    const bye = "https://app.example.test/bye";
    const web = await webClient({ postLogoutRedirectUris: bye });
    const { browser, signIn } = await signedInFlow(web);
    const endSession = (uri: string) => `/oidc/session/end?client_id=${web.clientId}&post_logout_redirect_uri=${encodeURIComponent(uri)}&state=after`;
    const refused = (await browser.follow(endSession("https://evil.example.test/bye"))) as { response: Response };
    expect(refused.response.status).toBe(400);
    const page = (await browser.follow(endSession(bye))) as { response: Response };
    const { action, fields } = providerForm(await page.response.text());
    const done = await browser.follow(action, { form: { ...fields, logout: "yes" } });
    expect("landed" in done ? done.landed.href : null).toBe(`${bye}?state=after`);
    expect(await portalSessionEnded(signIn.sessionId)).toBe(true);
    const plainHttp = { name: "App", type: "confidential", grantTypes: ["authorization_code"], redirectUris: bye, postLogoutRedirectUris: "http://app.example.test/bye", scopes: "openid", resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false };
    expect(clientInputSchema.safeParse(plainHttp).error?.issues).toEqual([expect.objectContaining({ path: ["postLogoutRedirectUris"] })]);
  });

  it("keeps a consent the user asked to remember (the next sign-in asks nothing) and ends one given for that sign-in only; the session's tokens end either way", async () => {
    const web = await webClient();
    const signOutThenSignInAgain = async (remember: boolean) => {
      // Without offline access: the library ends these grants' tokens at a sign-out.
      const { user, browser, verifier, code } = await signedInFlow(web, { remember, params: { scope: "openid" } });
      const tokens = (await (await redeemCode(browser, web, code, verifier)).json()) as Tokens;
      const grantId = (await db().oAuthConsent.findFirstOrThrow({ where: { userId: user.id } })).grantId;
      const page = (await browser.follow(`/oidc/session/end?client_id=${web.clientId}`)) as { response: Response };
      const { action, fields } = providerForm(await page.response.text());
      expect(await (((await browser.follow(action, { form: { ...fields, logout: "yes" } })) as { response: Response }).response.text())).toContain("You are signed out");
      expect(await introspect(browser, web, tokens.access_token)).toMatchObject({ active: false });
      const again = await portalSignIn(browser, user.id);
      const { result } = await authorize(browser, web, { scope: "openid" });
      const landed = landedAt((await continueLogin(browser, interactionUid(landedAt(result))!, user.id, again))!);
      const grantKept = (await db().oidcModel.count({ where: { kind: "Grant", id: grantId } })) === 1;
      return { landed, grantKept, consent: await db().oAuthConsent.findFirst({ where: { userId: user.id } }) };
    };

    const remembered = await signOutThenSignInAgain(true);
    expect(remembered.grantKept).toBe(true);
    expect(remembered.consent).toMatchObject({ remembered: true });
    expect(remembered.landed.searchParams.get("code")).toEqual(expect.any(String));

    const thisSignInOnly = await signOutThenSignInAgain(false);
    expect(thisSignInOnly.grantKept).toBe(false);
    expect(thisSignInOnly.consent).toBeNull();
    expect(thisSignInOnly.landed.pathname).toMatch(/^\/interaction\//);
  });

  it("\"Use another account\": the provider's own logout of the previous account leaves the new user's portal session alone", async () => {
    const web = await webClient();
    const { browser, signIn: first } = await signedInFlow(web);
    // The portal signs out; someone else signs in in this browser and lets the app in.
    await db().session.update({ where: { id: first.sessionId }, data: { endedAt: new Date() } });
    const other = await makeUser();
    const second = await portalSignIn(browser, other.id);
    const { result } = await authorize(browser, web);
    const afterLogin = await continueLogin(browser, interactionUid(landedAt(result))!, other.id, second);

    // The provider session was the first user's: oidc-provider logs it out (an auto-posted form) before going on.
    const { action, fields } = providerForm(await (afterLogin as { response: Response }).response.text());
    expect(fields).toMatchObject({ logout: "yes" });
    const consent = landedAt(await browser.follow(action, { form: fields }));
    expect(await portalSessionEnded(second.sessionId)).toBe(false);
    expect(await lastEndSession()).toMatchObject({ signedOutOfPortal: false });
    expect(landedAt(await allow(browser, interactionUid(consent)!, other.id, true)).searchParams.get("code")).toEqual(expect.any(String));
  });
});

describe("introspection and revocation", () => {
  it("answer a client about its own tokens only", async () => {
    const web = await webClient();
    const other = await webClient();
    const { browser, verifier, code } = await signedInFlow(web);
    const tokens = (await (await redeemCode(browser, web, code, verifier)).json()) as Tokens;

    expect(await introspect(browser, other, tokens.access_token)).toEqual({ active: false });
    expect(await introspect(browser, other, tokens.refresh_token!)).toEqual({ active: false });
    expect(await introspect(browser, web, tokens.access_token)).toMatchObject({ active: true, client_id: web.clientId });

    // Another client's revocation is refused, and recorded: that client holds a token never issued to it.
    const revocation = await clientRequest(browser, other, "/oidc/token/revocation", { token: tokens.refresh_token! });
    expect(await revocation.json()).toMatchObject({ error: "invalid_request" });
    expect(await introspect(browser, web, tokens.refresh_token!)).toMatchObject({ active: true });
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "oauth.token.revoke_foreign" } });
    expect(event).toMatchObject({ type: "security", outcome: "blocked", actorType: "client", actorId: other.clientId, resourceId: web.clientId });

    // A public client (anyone can call as it) hears "done", so it cannot tell live tokens from dead ones; nothing is revoked.
    const publicApp = await webClient({ type: "public" });
    expect((await clientRequest(browser, publicApp, "/oidc/token/revocation", { token: tokens.refresh_token! })).status).toBe(200);
    expect(await introspect(browser, web, tokens.refresh_token!)).toMatchObject({ active: true });
    expect(await db().auditEvent.count({ where: { action: "oauth.token.revoke_foreign" } })).toBe(2);

    // Its own token: revoked.
    expect((await clientRequest(browser, web, "/oidc/token/revocation", { token: tokens.refresh_token! })).status).toBe(200);
    expect(await introspect(browser, web, tokens.refresh_token!)).toEqual({ active: false });
  });

  it("answer inactive for the tokens of a user who is disabled, as userinfo and refresh do, also once enabled again", async () => {
    const web = await webClient();
    const { browser, verifier, code } = await signedInFlow(web);
    const tokens = (await (await redeemCode(browser, web, code, verifier)).json()) as Tokens;
    const { sub } = (await introspect(browser, web, tokens.access_token)) as { sub: string };
    await makeUser({ roles: ["admin"] }); // the flow's user may be the only admin, who cannot be disabled
    await setDisabled(sub, true, ctx);
    expect(await introspect(browser, web, tokens.access_token)).toEqual({ active: false });
    expect(await introspect(browser, web, tokens.refresh_token!)).toEqual({ active: false });
    // Disabling revoked the grant: enabling the account does not bring back tokens someone else may hold.
    await setDisabled(sub, false, ctx);
    expect(await introspect(browser, web, tokens.access_token)).toEqual({ active: false });
    expect(await introspect(browser, web, tokens.refresh_token!)).toEqual({ active: false });
  });
});

describe("the audit trail", () => {
  it("names the user by email on the provider's events, so the console's actor filter finds them", async () => {
    const web = await webClient();
    const { user, browser, verifier, code } = await signedInFlow(web);
    expect((await redeemCode(browser, web, code, verifier)).status).toBe(200);
    const found = await searchAuditEvents(auditFiltersSchema.parse({ actor: user.email.toUpperCase() }));
    expect(found.events.map((e) => e.action)).toEqual(expect.arrayContaining(["oauth.authorize", "oauth.token.issue"]));
    const byId = await searchAuditEvents(auditFiltersSchema.parse({ actor: user.id.toUpperCase() }));
    expect(byId.events.map((e) => e.action)).toEqual(expect.arrayContaining(["oauth.authorize", "oauth.token.issue"]));
  });
});

describe("scopes", () => {
  it("a sign-in client allowed API scopes only may ask for openid, not for the user's email or profile", async () => {
    const orders = await createClient(clientInputSchema.parse({
      name: "Orders", type: "confidential", grantTypes: ["authorization_code"], redirectUris: REDIRECT_URI, scopes: "orders:read",
      resources: "https://api.example.test", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    const refused = landedAt((await authorize(new Browser(provider.origin), orders, { scope: "openid email" })).result);
    expect([`${refused.origin}${refused.pathname}`, refused.searchParams.get("error")]).toEqual([REDIRECT_URI, "invalid_scope"]);
    const asked = landedAt((await authorize(new Browser(provider.origin), orders, { scope: "openid" })).result);
    expect(asked.pathname).toMatch(/^\/interaction\//);
  });
});

describe("malformed requests", () => {
  it("a parameter carrying a NUL (state, nonce, login hint) is refused as invalid_request, never a server error", async () => {
    const web = await webClient();
    for (const param of ["state", "nonce", "login_hint"]) {
      const { result } = await authorize(new Browser(provider.origin), web, { [param]: "a\u0000b" });
      const back = landedAt(result);
      expect([`${back.origin}${back.pathname}`, back.searchParams.get("error"), param]).toEqual([REDIRECT_URI, "invalid_request", param]);
    }
  });
});

describe("refresh token lifetime", () => {
  /** A refresh token issued 50 minutes ago with a one-hour lifetime (its stored expiry moved back), then rotated: when does the new one expire? */
  async function rotatedExpiry(type: "public" | "confidential"): Promise<number> {
    const web = await webClient({ type, refreshTokenTtl: "3600" });
    const { browser, verifier, code } = await signedInFlow(web);
    const { refresh_token } = (await (await redeemCode(browser, web, code, verifier)).json()) as Tokens;
    const exp = Math.floor(Date.now() / 1000) + 600;
    await pgPool().query("UPDATE oidc_models SET payload = jsonb_set(payload, '{exp}', to_jsonb($2::int)), expires_at = $3 WHERE kind = 'RefreshToken' AND id = $1", [storedTokenId(refresh_token!), exp, new Date(exp * 1000)]);
    const rotated = (await (await tokenRequest(browser, web, { grant_type: "refresh_token", refresh_token: refresh_token! })).json()) as Tokens;
    const row = await db().oidcModel.findFirstOrThrow({ where: { kind: "RefreshToken", id: storedTokenId(rotated.refresh_token!) } });
    return row.expiresAt!.getTime() / 1000 - Date.now() / 1000;
  }

  it("a public client's rotated token keeps the remaining lifetime; a confidential client's gets a new one", async () => {
    expect(await rotatedExpiry("public")).toBeLessThanOrEqual(600);
    expect(await rotatedExpiry("confidential")).toBeGreaterThan(3500);
  });
});
