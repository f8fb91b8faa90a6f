import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import type { CreatedClient as Created } from "./support/helpers";
import { startLogoutReceiver } from "../tests/support/logout-receiver";
import { DEFAULT_POLICIES } from "../lib/policy/schema";
import { ADMIN_STATE, createClientViaConsole as createClient, createUserViaConsole, enrollTotp, signIn, signOut, sql, submitAsAdmin, totpCode, uniqueEmail, withMailServer } from "./support/helpers";

// A real relying-party library (oauth4webapi) drives the provider; the browser goes through the
// login and consent pages. Clients are created in the console, as an admin would.

const REDIRECT_URI = "http://127.0.0.1:9876/callback";
const API = "https://api.example.test";
const PASSWORD = "oidc passphrase for e2e";
const http = { [oauth.allowInsecureRequests]: true } as const;

let as: oauth.AuthorizationServer;
let web: Created;
let machine: Created;
let dpopMachine: Created;
let email: string;

// The app's redirect URI, served for real: the browser lands there as it would at an app (an
// intercepted route is not reached by the provider's cross-origin redirect in every Chromium build).
let landings: ((url: URL) => void)[] = [];
const app = createServer((req, res) => {
  const landed = new URL(req.url!, REDIRECT_URI);
  if (landed.pathname === new URL(REDIRECT_URI).pathname) landings.shift()?.(landed);
  res.writeHead(200, { "content-type": "text/plain" }).end("back at the app");
});

/** Sends the browser to the authorization endpoint and returns the URL it is redirected back to. */
async function authorize(page: Page, params: Record<string, string>): Promise<URL> {
  const url = new URL(as.authorization_endpoint!);
  // A pushed request (RFC 9126) is referenced by request_uri alone.
  const all = "request_uri" in params ? { client_id: web.clientId, ...params } : { client_id: web.clientId, redirect_uri: REDIRECT_URI, response_type: "code", ...params };
  for (const [k, v] of Object.entries(all)) url.searchParams.set(k, v);
  // Waited for before the navigation: a silent flow (prompt=none) comes straight back.
  const callback = new Promise<URL>((resolve) => landings.push(resolve));
  await page.goto(url.href);
  // Resolved once the browser has landed back at the app: a navigation started before that would
  // interrupt the redirect (and fail the test, not the provider).
  return callback.then(async (landed) => {
    await page.waitForURL((u) => u.origin === "http://127.0.0.1:9876");
    return landed;
  });
}

/** A prompt=none request with the browser's cookies, as an app's hidden frame would send it: where it is sent back to. */
async function silentAuthorize(page: Page): Promise<URL> {
  const url = new URL(as.authorization_endpoint!);
  const params = { client_id: web.clientId, redirect_uri: REDIRECT_URI, response_type: "code", scope: "openid", prompt: "none", state: "silent", code_challenge: (await pkce()).challenge, code_challenge_method: "S256" };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const response = await page.request.get(url.href, { maxRedirects: 0 });
  expect(response.status()).toBe(303);
  return new URL(response.headers().location!);
}

async function pkce() {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) };
}

// OpenID Connect issues a refresh token for offline_access only with prompt=consent.
const OFFLINE = { scope: "openid profile email offline_access", prompt: "consent" };

async function codeFlow(page: Page, extra: Record<string, string> = {}) {
  const { verifier, challenge } = await pkce();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const callback = await authorize(page, { scope: "openid profile email", state, nonce, code_challenge: challenge, code_challenge_method: "S256", ...extra });
  const client = { client_id: web.clientId };
  const params = oauth.validateAuthResponse(as, client, callback, state);
  return { params, verifier, nonce, client, callback };
}

async function exchange(flow: Awaited<ReturnType<typeof codeFlow>>) {
  const response = await oauth.authorizationCodeGrantRequest(as, flow.client, oauth.ClientSecretBasic(web.clientSecret), flow.params, REDIRECT_URI, flow.verifier, http);
  return oauth.processAuthorizationCodeResponse(as, flow.client, response, { expectedNonce: flow.nonce, requireIdToken: true });
}

async function oauthError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) return error.error;
    // A 401 with a WWW-Authenticate challenge (e.g. failed client authentication): the body says which error.
    if (error instanceof oauth.WWWAuthenticateChallengeError) return ((await error.response.json()) as { error: string }).error;
    throw error;
  }
  throw new Error("expected an OAuth error response");
}

async function introspect(token: string) {
  const response = await oauth.introspectionRequest(as, { client_id: web.clientId }, oauth.ClientSecretBasic(web.clientSecret), token, http);
  return oauth.processIntrospectionResponse(as, { client_id: web.clientId }, response);
}

test.describe.serial("OpenID Connect provider", () => {
  test.afterAll(() => new Promise<void>((resolve) => app.close(() => resolve())));
  test.beforeEach(() => void (landings = []));

  test.beforeAll(async ({ browser, baseURL }) => {
    await new Promise<void>((resolve) => app.listen(Number(new URL(REDIRECT_URI).port), "127.0.0.1", resolve));
    const issuer = new URL(baseURL!);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, http));
    web = await createClient(browser, { name: "Test RP", grants: ["authorization_code", "refresh_token"], redirectUris: REDIRECT_URI, scopes: "openid profile email offline_access" });
    machine = await createClient(browser, { name: "Batch job", grants: ["client_credentials"], scopes: "api:read api:write", resources: API });
    dpopMachine = await createClient(browser, { name: "Bound job", grants: ["client_credentials"], scopes: "api:read", resources: API, dpop: true });
    email = uniqueEmail("rp-user");
    const { admin } = await createUserViaConsole(browser, { email, password: PASSWORD, name: "Rita Party" });
    await admin.close();
  });

  test("discovery documents both well-known paths and OAuth 2.1 choices", async ({ request }) => {
    expect(as.code_challenge_methods_supported).toEqual(["S256"]);
    expect(as.response_types_supported).toEqual(["code"]);
    expect(as.grant_types_supported).not.toContain("implicit");
    expect(as.grant_types_supported).not.toContain("password");
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    const rfc8414 = await (await request.get("/.well-known/oauth-authorization-server")).json();
    expect(rfc8414.issuer).toBe(as.issuer);
    const jwks = await (await request.get(as.jwks_uri!)).json();
    expect(jwks.keys.map((k: { alg: string }) => k.alg).sort()).toEqual(["ES256", "EdDSA"]);
    expect(JSON.stringify(jwks)).not.toContain('"d"');
  });

  test("authorization code with PKCE through the login and consent pages, ID token, userinfo", async ({ page, browser }) => {
    const flowPromise = codeFlow(page, OFFLINE);
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Finteraction%2F/);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("button", { name: "Continue as Rita Party" }).click();
    await expect(page.getByRole("heading", { name: "Test RP wants access" })).toBeVisible();
    await expect(page.getByTestId("consent-scopes")).toContainText("Your email address");
    // Where "Allow" leads: the host of the redirect URI the provider matched.
    await expect(page.getByText(`you go back to ${new URL(REDIRECT_URI).host}`)).toBeVisible();
    await page.getByRole("button", { name: "Allow" }).click();
    const flow = await flowPromise;
    expect(flow.callback.searchParams.get("iss")).toBe(as.issuer);

    const tokens = await exchange(flow);
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims.iss).toBe(as.issuer);
    // oauth4webapi trusts the token endpoint's TLS for the ID token; check its signature against JWKS too.
    const { protectedHeader } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(as.jwks_uri!)), { issuer: as.issuer, audience: web.clientId });
    expect(protectedHeader.alg).toBe("ES256");
    expect(claims.aud).toBe(web.clientId);
    expect(claims.amr).toEqual(["pwd"]);
    expect(tokens.refresh_token).toBeTruthy();

    const userinfo = await oauth.processUserInfoResponse(as, flow.client, claims.sub, await oauth.userInfoRequest(as, flow.client, tokens.access_token, http));
    expect(userinfo).toMatchObject({ email, name: "Rita Party", email_verified: false });
    // Once the owner confirms the address (a mailed link: e2e/password-recovery.spec.ts), apps see it verified.
    sql(`UPDATE users SET email_verified_at = now() WHERE email = '${email}'`);
    const confirmed = await oauth.processUserInfoResponse(as, flow.client, claims.sub, await oauth.userInfoRequest(as, flow.client, tokens.access_token, http));
    expect(confirmed).toMatchObject({ email, email_verified: true });

    // The consent was remembered: the app is listed for the user, and the next login skips consent.
    await page.goto("/account/apps");
    await expect(page.getByTestId("app-row")).toContainText("Test RP");
    await expect(page.getByTestId("app-row").getByRole("list", { name: "What Test RP may do" })).toContainText("Your email address");

    // The admin sees the grant among the client's active grants.
    const admin = await browser.newContext({ storageState: ADMIN_STATE });
    const console = await admin.newPage();
    await console.goto("/admin/clients");
    await console.getByTestId("client-row").filter({ hasText: web.clientId }).getByRole("link", { name: /user grant/ }).click();
    await expect(console.getByTestId("grant-row").filter({ hasText: email })).toContainText("offline_access");
    await admin.close();
  });

  // The token-theft playbook mails the admins last: a run whose mail did not go out would end failed.
  test("refresh tokens rotate; reusing a spent one revokes the whole grant", ({ page }) => withMailServer(async () => {
    await signIn(page, email, PASSWORD);
    const flowPromise = codeFlow(page, OFFLINE);
    await page.getByRole("button", { name: "Continue as Rita Party" }).click();
    await page.getByRole("button", { name: "Allow" }).click();
    const tokens = await exchange(await flowPromise);
    const client = { client_id: web.clientId };
    const auth = oauth.ClientSecretBasic(web.clientSecret);
    // The browser's provider session remembers the portal sign-in behind it: refreshes are judged by its risk score and device.
    const signInOfBrowser = `SELECT count(*) FROM oauth_session_sign_ins x JOIN sessions s ON s.id = x.session_id JOIN users u ON u.id = s.user_id WHERE u.email = '${email}' AND s.ended_at IS NULL`;
    expect(Number(sql(signInOfBrowser))).toBeGreaterThan(0);

    const first = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, http));
    expect(first.refresh_token).toBeTruthy();
    expect(first.refresh_token).not.toBe(tokens.refresh_token);

    const reuse = oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, http).then((r) => oauth.processRefreshTokenResponse(as, client, r));
    expect(await oauthError(reuse)).toBe("invalid_grant");
    const afterReuse = oauth.refreshTokenGrantRequest(as, client, auth, first.refresh_token!, http).then((r) => oauth.processRefreshTokenResponse(as, client, r));
    expect(await oauthError(afterReuse)).toBe("invalid_grant");
    expect((await introspect(first.access_token)).active).toBe(false);
    // The provider's answer went out after its audit event was written.
    expect(sql(`SELECT outcome FROM audit_events WHERE action = 'oauth.refresh_token.reuse' LIMIT 1`)).toBe("blocked");

    // Detection opens a token-theft incident; the built-in playbook revokes the user's other grants
    // and ends their sessions, so the thief's browser session is gone too.
    await expect.poll(() => sql(`SELECT r.status FROM playbook_runs r JOIN incidents i ON i.id = r.incident_id WHERE i.type = 'token_theft' LIMIT 1`), { timeout: 30_000 }).toBe("succeeded");
    await page.goto("/account");
    await expect(page).toHaveURL(/\/sign-in/);
  }));

  test("revocation and introspection", async ({ page }) => {
    await signIn(page, email, PASSWORD);
    const flowPromise = codeFlow(page, { scope: "openid" });
    await page.getByRole("button", { name: "Continue as Rita Party" }).click();
    await page.getByRole("button", { name: "Allow" }).click(); // the previous test's reuse revoked the grant
    const tokens = await exchange(await flowPromise);
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, client_id: web.clientId });
    const response = await oauth.revocationRequest(as, { client_id: web.clientId }, oauth.ClientSecretBasic(web.clientSecret), tokens.access_token, http);
    await oauth.processRevocationResponse(response);
    expect((await introspect(tokens.access_token)).active).toBe(false);
  });

  test("RP-initiated logout: the user confirms, and the provider and portal sessions both end", async ({ page }) => {
    await signIn(page, email, PASSWORD);
    const flowPromise = codeFlow(page, { scope: "openid", prompt: "consent" });
    await page.getByRole("button", { name: "Continue as Rita Party" }).click();
    await page.getByRole("button", { name: "Allow" }).click();
    const tokens = await exchange(await flowPromise);
    // The browser has landed back at the app before it goes on to sign out.
    await expect(page.getByText("back at the app")).toBeVisible();

    await page.goto(`${as.end_session_endpoint}?id_token_hint=${tokens.id_token}&client_id=${web.clientId}`);
    await expect(page.getByRole("heading", { name: "Sign out of Test RP?" })).toBeVisible();
    await page.getByRole("button", { name: "Sign out everywhere" }).click();
    await expect(page.getByRole("heading", { name: "You are signed out" })).toBeVisible();
    // The page was sent after the portal session had ended: no window in which it still works.
    await page.goto("/account");
    await expect(page).toHaveURL(/\/sign-in/);
    expect(sql(`SELECT metadata->>'signedOutOfPortal' FROM audit_events WHERE action = 'oauth.end_session' ORDER BY seq DESC LIMIT 1`)).toBe("true");
  });

  test("client credentials give a JWT access token (RFC 9068) for the resource", async () => {
    const client = { client_id: machine.clientId };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(machine.clientSecret), { scope: "api:read", resource: API }, http);
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    const request = new Request(`${API}/things`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(as, request, API, http);
    expect(claims).toMatchObject({ client_id: machine.clientId, aud: API, scope: "api:read" });
    const wrongSecret = oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic("not-the-secret"), { scope: "api:read" }, http).then((r) => oauth.processClientCredentialsResponse(as, client, r));
    expect(await oauthError(wrongSecret)).toBe("invalid_client");
    const unknown = oauth.clientCredentialsGrantRequest(as, { client_id: "gh_nobody" }, oauth.ClientSecretBasic("x"), {}, http).then((r) => oauth.processClientCredentialsResponse(as, { client_id: "gh_nobody" }, r));
    expect(await oauthError(unknown)).toBe("invalid_client");
  });

  test("a client that requires DPoP gets no token without a proof, and a DPoP-bound one with it", async () => {
    const client = { client_id: dpopMachine.clientId };
    const auth = oauth.ClientSecretBasic(dpopMachine.clientSecret);
    const bare = oauth.clientCredentialsGrantRequest(as, client, auth, { scope: "api:read" }, http).then((r) => oauth.processClientCredentialsResponse(as, client, r));
    expect(await oauthError(bare)).toBe("invalid_grant"); // "DPoP proof JWT not provided"
    const DPoP = oauth.DPoP({}, await oauth.generateKeyPair("ES256"));
    const bound = await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: "api:read" }, { ...http, DPoP }));
    expect(bound.token_type.toLowerCase()).toBe("dpop");
  });

  test("refused: missing PKCE, plain PKCE, a wrong redirect URI", async ({ request }) => {
    const base = { client_id: web.clientId, redirect_uri: REDIRECT_URI, response_type: "code", scope: "openid", state: "s" };
    const go = (params: Record<string, string>) => request.get(`${as.authorization_endpoint}?${new URLSearchParams(params)}`, { maxRedirects: 0 });
    const missing = await go(base);
    expect(new URL(missing.headers().location!).searchParams.get("error")).toBe("invalid_request");
    const plain = await go({ ...base, code_challenge: "a".repeat(43), code_challenge_method: "plain" });
    expect(new URL(plain.headers().location!).searchParams.get("error")).toBe("invalid_request");
    const wrongRedirect = await go({ ...base, redirect_uri: "http://127.0.0.1:9876/elsewhere", code_challenge: "a".repeat(43), code_challenge_method: "S256" });
    expect(wrongRedirect.status()).toBe(400);
    expect(await wrongRedirect.text()).toContain("redirect_uri");
  });

  test("an expired code fails; a code used twice fails and revokes the tokens of its first use", ({ page }) => withMailServer(async () => {
    test.setTimeout(90_000); // it waits for the token-theft playbook the reuse sets off
    await signIn(page, email, PASSWORD);
    const expiringPromise = codeFlow(page, { scope: "openid email" });
    await page.getByRole("button", { name: "Continue as Rita Party" }).click();
    await page.getByRole("button", { name: "Allow" }).click(); // email was not granted before
    const expiring = await expiringPromise;
    // Codes are stored under the SHA-256 of their value (lib/oidc/adapter.ts).
    sql(`UPDATE oidc_models SET expires_at = now() - interval '1 second' WHERE kind = 'AuthorizationCode' AND id = encode(sha256('${expiring.params.get("code")!.replace(/'/g, "")}'::bytea), 'hex')`);
    expect(await oauthError(exchange(expiring))).toBe("invalid_grant");

    // The reuse comes last: the playbook it sets off signs the user out, which no step here may race.
    const flowPromise = codeFlow(page, { scope: "openid email", prompt: "consent" });
    await page.getByRole("button", { name: "Allow" }).click();
    const flow = await flowPromise;
    const tokens = await exchange(flow);
    expect(await oauthError(exchange(flow))).toBe("invalid_grant");
    expect((await introspect(tokens.access_token)).active).toBe(false);

    // A code presented twice is the sign of a stolen one, like a spent refresh token: the token-theft
    // playbook answers for the grant's user (the second run for this user: the refresh reuse above was the first).
    const answered = `SELECT count(*) FROM playbook_runs r JOIN alerts a ON a.id = r.alert_id WHERE a.rule = 'refresh_token_reuse' AND r.status = 'succeeded' AND a.user_id = (SELECT id FROM users WHERE email = '${email}')`;
    await expect.poll(() => sql(answered), { timeout: 30_000 }).toBe("2");
    await page.goto("/account");
    await expect(page).toHaveURL(/\/sign-in/);
  }));

  test("dynamic registration needs an initial access token from an admin", async ({ browser }) => {
    const metadata = { client_name: "Self-registered", redirect_uris: ["https://rp.example.test/cb"], grant_types: ["authorization_code"], response_types: ["code"] };
    const anonymous = await oauth.dynamicClientRegistrationRequest(as, metadata, http);
    expect(anonymous.status).toBe(401);

    const admin = await browser.newContext({ storageState: ADMIN_STATE });
    const page = await admin.newPage();
    await page.goto("/admin/clients");
    await submitAsAdmin(page, () => page.getByRole("button", { name: "Issue an initial access token" }).click(), page.getByTestId("registration-token"));
    const iat = (await page.getByTestId("registration-token").textContent())!;
    await admin.close();

    const badRedirect = await oauth.dynamicClientRegistrationRequest(as, { ...metadata, redirect_uris: ["http://rp.example.test/cb"] }, { ...http, initialAccessToken: iat });
    expect((await badRedirect.json()).error).toBe("invalid_redirect_uri");
    const registered = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, metadata, { ...http, initialAccessToken: iat }));
    expect(registered.client_id).toBeTruthy();
    expect(sql(`SELECT secret_hash IS NOT NULL AND metadata::text NOT LIKE '%client_secret"%' FROM oauth_clients WHERE id = '${registered.client_id}'`)).toBe("t");
  });

  test("an interaction opened in another browser cannot continue; the user removes the app's access", async ({ browser, page }) => {
    const { challenge } = await pkce();
    const url = new URL(as.authorization_endpoint!);
    for (const [k, v] of Object.entries({ client_id: web.clientId, redirect_uri: REDIRECT_URI, response_type: "code", scope: "openid", code_challenge: challenge, code_challenge_method: "S256" })) url.searchParams.set(k, v);
    await page.goto(url.href);
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Finteraction%2F/);
    const interactionPath = new URL(page.url()).searchParams.get("callbackUrl")!;

    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await signIn(otherPage, email, PASSWORD);
    await otherPage.goto(interactionPath);
    await expect(otherPage.getByRole("heading", { name: "This sign-in request cannot continue" })).toBeVisible();

    // The previous test's code reuse had the user's grants revoked: the app is allowed again, here.
    const flow = codeFlow(otherPage, { scope: "openid" });
    await otherPage.getByRole("button", { name: "Continue as Rita Party" }).click();
    await otherPage.getByRole("button", { name: "Allow" }).click();
    await flow;
    await otherPage.goto("/account/apps");
    const row = otherPage.getByTestId("app-row").filter({ hasText: "Test RP" });
    await expect(row).toBeVisible();
    otherPage.once("dialog", (dialog) => dialog.accept());
    await row.getByRole("button", { name: "Remove access" }).click();
    await expect(otherPage.getByTestId("notice")).toContainText("Access removed: the app can no longer refresh its tokens");
    await expect(otherPage.getByTestId("app-row")).toHaveCount(0);
    await other.close();
  });

  test("with no script running, the login and consent pages still send the browser on to the app", async ({ browser, page }) => {
    await signIn(page, email, PASSWORD);
    const noScript = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
    const plain = await noScript.newPage();
    const { challenge } = await pkce();
    const back = authorize(plain, { scope: "openid", state: "noscript", prompt: "consent", code_challenge: challenge, code_challenge_method: "S256" });
    await plain.getByRole("button", { name: "Continue as Rita Party" }).click();
    // For this sign-in only: the tests after expect the app's access as the one before left it (removed).
    await plain.getByLabel("Remember this decision").uncheck();
    await plain.getByRole("button", { name: "Allow" }).click();
    const landed = await back;
    expect(landed.searchParams.get("state")).toBe("noscript");
    expect(landed.searchParams.get("code")).toBeTruthy();
    await noScript.close();
  });

  test("the login interaction goes through the MFA step, and the ID token says so", async ({ browser, page }) => {
    const mfaEmail = uniqueEmail("rp-mfa");
    const { admin } = await createUserViaConsole(browser, { email: mfaEmail, password: PASSWORD, name: "Max Factor" });
    await admin.close();
    await signIn(page, mfaEmail, PASSWORD);
    await page.goto("/account/security");
    const { secret } = await enrollTotp(page);
    await page.context().clearCookies();

    const flowPromise = codeFlow(page, { scope: "openid" });
    await page.getByLabel("Email").fill(mfaEmail);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(/\/sign-in\/verify\?callbackUrl=%2Finteraction%2F/);
    await page.getByLabel("Authentication code").fill(totpCode(secret, 1));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("button", { name: "Continue as Max Factor" }).click();
    await page.getByRole("button", { name: "Allow" }).click();
    const claims = oauth.getValidatedIdTokenClaims(await exchange(await flowPromise))!;
    expect(claims.amr).toEqual(["pwd", "otp", "mfa"]);
  });

  test("an app asking for a second factor (acr_values=mfa) has the user confirm one first, and the ID token's acr says so", async ({ browser, page }) => {
    const acrEmail = uniqueEmail("rp-acr");
    const { admin } = await createUserViaConsole(browser, { email: acrEmail, password: PASSWORD, name: "Ada Acr" });
    await admin.close();
    // Signed in with the password alone; setting up an app afterwards does not make this sign-in a two-factor one.
    await signIn(page, acrEmail, PASSWORD);
    await page.goto("/account/security");
    const { secret } = await enrollTotp(page);

    const flowPromise = codeFlow(page, { scope: "openid", acr_values: "mfa" });
    await expect(page.getByTestId("stronger-sign-in")).toContainText("Test RP asks for a sign-in with a second factor.");
    // Continuing without it is refused, offering the confirmation.
    await page.getByRole("button", { name: "Continue as Ada Acr" }).click();
    await expect(page.getByTestId("form-message")).toContainText("Test RP asks you to confirm with a second factor");
    await page.getByRole("link", { name: "Confirm it is you" }).click();
    await page.getByLabel("Authentication code").fill(totpCode(secret, 1));
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page).toHaveURL(/\/interaction\//);
    await expect(page.getByTestId("stronger-sign-in")).toHaveCount(0);
    await page.getByRole("button", { name: "Continue as Ada Acr" }).click();
    await page.getByRole("button", { name: "Allow" }).click();
    const claims = oauth.getValidatedIdTokenClaims(await exchange(await flowPromise))!;
    expect(claims).toMatchObject({ acr: "mfa", amr: ["pwd", "otp", "mfa"] });
  });

  test("certificate-bound tokens (RFC 8705) with the certificate a trusted TLS proxy forwards", async ({ browser }) => {
    const bound = await createClient(browser, { name: "mTLS job", grants: ["client_credentials"], scopes: "api:read", resources: API, mtls: true });
    const dir = mkdtempSync(path.join(tmpdir(), "mtls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=mtls-job", "-days", "1", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "ignore" });
    const pem = readFileSync(path.join(dir, "cert.pem"), "utf8");
    const thumbprint = createHash("sha256").update(new X509Certificate(pem).raw).digest("base64url");
    const client = { client_id: bound.clientId };
    const auth = oauth.ClientSecretBasic(bound.clientSecret);
    const withoutCert = oauth.clientCredentialsGrantRequest(as, client, auth, { scope: "api:read" }, http).then((r) => oauth.processClientCredentialsResponse(as, client, r));
    expect(await oauthError(withoutCert)).toBe("invalid_grant");
    const tokens = await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: "api:read" }, { ...http, headers: { "x-client-cert": encodeURIComponent(pem) } }));
    const payload = JSON.parse(Buffer.from(tokens.access_token.split(".")[1]!, "base64url").toString()) as { cnf?: Record<string, string> };
    expect(payload.cnf?.["x5t#S256"]).toBe(thumbprint);
  });

  test("pushed authorization requests (RFC 9126)", async ({ page }) => {
    await signIn(page, email, PASSWORD);
    const { verifier, challenge } = await pkce();
    const state = oauth.generateRandomState();
    const client = { client_id: web.clientId };
    const pushed = await oauth.pushedAuthorizationRequest(as, client, oauth.ClientSecretBasic(web.clientSecret), { redirect_uri: REDIRECT_URI, response_type: "code", scope: "openid", state, code_challenge: challenge, code_challenge_method: "S256" }, http);
    const { request_uri } = await oauth.processPushedAuthorizationResponse(as, client, pushed);
    expect(request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const callbackPromise = authorize(page, { request_uri });
    await page.getByRole("button", { name: "Continue as Rita Party" }).click();
    await page.getByRole("button", { name: "Allow" }).click(); // the previous test removed the app's access
    const params = oauth.validateAuthResponse(as, client, await callbackPromise, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic(web.clientSecret), params, REDIRECT_URI, verifier, http);
    expect((await oauth.processAuthorizationCodeResponse(as, client, response)).access_token).toBeTruthy();
  });
  test("single sign-on lasts as long as the portal session: signed out of Gatehouse, the app must sign in again, and its server is told", async ({ page, browser }) => {
    test.setTimeout(60_000);
    // The app's back-channel logout endpoint, set on its page in the console.
    const receiver = await startLogoutReceiver({ port: 9877 });
    const admin = await browser.newContext({ storageState: ADMIN_STATE });
    const clientPage = await admin.newPage();
    await clientPage.goto(`/admin/clients/${web.clientId}`);
    await submitAsAdmin(clientPage, async () => {
      await clientPage.getByLabel("Back-channel logout URI").fill(receiver.url);
      await clientPage.getByRole("button", { name: "Save changes" }).click();
    }, clientPage.getByTestId("form-message").filter({ hasText: "Saved" }));
    await admin.close();

    await signIn(page, email, PASSWORD);
    const first = codeFlow(page, { scope: "openid", prompt: "consent" });
    await page.getByRole("button", { name: "Continue as Rita Party" }).click();
    await page.getByRole("button", { name: "Allow" }).click(); // remembered
    expect((await first).params.get("code")).toBeTruthy();
    // Signed in to both: the app signs the user in silently.
    expect((await silentAuthorize(page)).searchParams.get("code")).toBeTruthy();

    await page.goto("/account");
    await signOut(page);
    expect((await silentAuthorize(page)).searchParams.get("error")).toBe("login_required");
    // Within seconds the app's server gets a logout token for this user, signed by Gatehouse.
    try {
      await expect.poll(() => receiver.tokens.length, { timeout: 15_000 }).toBe(1);
      const { payload } = await jwtVerify(receiver.tokens[0]!, createRemoteJWKSet(new URL(as.jwks_uri!)), { issuer: as.issuer, audience: web.clientId, typ: "logout+jwt" });
      expect(payload).toMatchObject({ sub: sql(`SELECT id FROM users WHERE email = '${email}'`), sid: expect.any(String), events: { "http://schemas.openid.net/event/backchannel-logout": {} } });
    } finally {
      await receiver.close();
    }
  });

  test("an access policy can refuse an app tokens for a user: the app gets access_denied", async ({ page }) => {
    const refuse = `${DEFAULT_POLICIES}\n@id("no-tokens-for-test-rp")\nforbid (principal, action == Gatehouse::Action::"issueToken", resource == Gatehouse::Client::"${web.clientId}");\n`;
    await signIn(page, email, PASSWORD);
    const before = codeFlow(page, { scope: "openid", prompt: "consent" });
    await page.getByRole("button", { name: "Continue as Rita Party" }).click();
    await page.getByRole("button", { name: "Allow" }).click(); // remembered
    expect((await before).params.get("code")).toBeTruthy();
    // Published straight into the table, as another instance would; every instance sees it within a second.
    sql(`INSERT INTO policy_versions (text, comment) VALUES ($policy$${refuse}$policy$, 'e2e: refuse the test RP')`);
    await page.waitForTimeout(1_000);
    // The browser still has its single sign-on session, and consent is remembered: the policy holds anyway.
    expect((await silentAuthorize(page)).searchParams.get("error")).toBe("login_required");
    const callbackPromise = authorize(page, { scope: "openid", state: "s1", code_challenge: (await pkce()).challenge, code_challenge_method: "S256" });
    await page.getByRole("button", { name: "Continue as Rita Party" }).click();
    const callback = await callbackPromise;
    expect(callback.searchParams.get("error")).toBe("access_denied");
    expect(callback.searchParams.get("error_description")).toMatch(/access policies do not allow/);
    await expect.poll(() => sql(`SELECT metadata->'policies'->>0 FROM audit_events WHERE action = 'oauth.token.denied_by_policy' ORDER BY seq DESC LIMIT 1`)).toBe("no-tokens-for-test-rp");
    sql(`INSERT INTO policy_versions (text, comment) VALUES ($policy$${DEFAULT_POLICIES}$policy$, 'e2e: built-in roles again')`);
    await page.waitForTimeout(1_000);
  });
});
