import { afterAll, beforeAll } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt } from "jose";
import { encode } from "next-auth/jwt";
import { db } from "@/lib/db/client";
import { handleOidcRequest } from "@/lib/oidc/start";
import { clientInputSchema, createClient } from "@/lib/oidc/clients";
import { completeConsent, completeLogin } from "@/lib/oidc/interactions";
import { nextRequest } from "./next-request";
import { ctx } from "./factories";

// The provider driven as a browser and a relying party drive it, in-process: its routes on a
// loopback port (served by lib/oidc/start.ts's handler, as server.ts does, so a key rotation is
// seen), a browser with a cookie jar, and the interaction steps the login and consent pages take
// (tests that use them mock next/headers with ./next-request).

export const REDIRECT_URI = "https://app.example.test/cb";

async function startProvider(): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => void handleOidcRequest(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The provider for one test file: started before its tests, closed after them. */
export function providerForTests(): { readonly origin: string } {
  let started: Awaited<ReturnType<typeof startProvider>> | undefined;
  beforeAll(async () => {
    started = await startProvider();
  });
  afterAll(() => started?.close());
  return {
    get origin() {
      if (!started) throw new Error("the provider starts in beforeAll");
      return started.origin;
    },
  };
}

type Cookie = { name: string; value: string; path: string };

export class Browser {
  private readonly jar = new Map<string, Cookie>();

  constructor(readonly origin: string) {}

  cookieHeader(path: string): string {
    return [...this.jar.values()].filter((c) => path.startsWith(c.path)).map((c) => `${c.name}=${c.value}`).join("; ");
  }

  setCookie(name: string, value: string, path = "/"): void {
    this.jar.set(`${name};${path}`, { name, value, path });
  }

  /** The headers the interaction page's request carries (what next/headers gives lib/oidc/interactions.ts). */
  usePage(path: string): void {
    nextRequest.headers = new Headers({ host: new URL(this.origin).host, cookie: this.cookieHeader(path) });
  }

  async request(url: string | URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url, this.origin);
    const response = await fetch(target, {
      method: init.method ?? (init.form ? "POST" : "GET"),
      redirect: "manual",
      headers: { cookie: this.cookieHeader(target.pathname), ...(init.form ? { "content-type": "application/x-www-form-urlencoded" } : {}), accept: "text/html" },
      body: init.form ? new URLSearchParams(init.form) : undefined,
    });
    for (const line of response.headers.getSetCookie()) this.store(line);
    return response;
  }

  private store(line: string): void {
    const [pair, ...attributes] = line.split(";").map((part) => part.trim());
    const [name, value] = [pair!.slice(0, pair!.indexOf("=")), pair!.slice(pair!.indexOf("=") + 1)];
    const attribute = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
    const path = attribute("path") ?? "/";
    const expires = attribute("expires");
    if (!value || (expires && new Date(expires) <= new Date())) this.jar.delete(`${name};${path}`);
    else this.setCookie(name, value, path);
  }

  /**
   * Follows the provider's redirects from `url`: where the browser lands outside the provider (an
   * interaction page, the client's redirect URI), or the last answer when it is not a redirect.
   */
  async follow(url: string | URL, init?: { form?: Record<string, string> }): Promise<{ landed: URL } | { response: Response }> {
    let response = await this.request(url, init);
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get("location");
      if (!location) return { response };
      const next = new URL(location, response.url);
      if (next.origin !== this.origin || !next.pathname.startsWith("/oidc/")) return { landed: next };
      response = await this.request(next);
    }
    throw new Error("too many redirects");
  }
}

/** The first form of one of the provider's pages (an auto-posted logout, the sign-out page): where it posts, its hidden fields. */
export function providerForm(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error("no form on the page");
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  return { action, fields };
}

/** A portal sign-in in this browser: an active session row and next-auth's cookie for it. */
export async function portalSignIn(browser: Browser, userId: string, options: { authMethods?: string[]; at?: Date } = {}) {
  const at = options.at ?? new Date();
  const session = await db().session.create({
    data: { userId, createdAt: at, lastSeenAt: at, expiresAt: new Date(Date.now() + 3_600_000), authMethods: options.authMethods ?? ["password"] },
  });
  const cookie = await encode({ token: { sid: session.id, uid: userId }, secret: process.env.AUTH_SECRET!, salt: "authjs.session-token" });
  browser.setCookie("authjs.session-token", cookie);
  return { sessionId: session.id, authMethods: session.authMethods, authTime: session.createdAt };
}

export async function webClient(overrides: { type?: "public" | "confidential"; refreshTokenTtl?: string; redirectUris?: string; postLogoutRedirectUris?: string; backchannelLogoutUri?: string; scopes?: string } = {}) {
  return createClient(clientInputSchema.parse({
    name: "Flow app", type: overrides.type ?? "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: overrides.redirectUris ?? REDIRECT_URI,
    postLogoutRedirectUris: overrides.postLogoutRedirectUris, backchannelLogoutUri: overrides.backchannelLogoutUri,
    scopes: overrides.scopes ?? "openid profile offline_access", resources: "", accessTokenTtl: "600", refreshTokenTtl: overrides.refreshTokenTtl ?? "86400", requireDpop: false, certificateBound: false,
  }), ctx);
}

export type RelyingParty = { clientId: string; clientSecret: string | null; redirectUri?: string };

/** An authorization request with PKCE; the browser follows it to the interaction page or back to the client. */
export async function authorize(browser: Browser, rp: RelyingParty, params: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const url = new URL("/oidc/auth", browser.origin);
  const all = { client_id: rp.clientId, redirect_uri: rp.redirectUri ?? REDIRECT_URI, response_type: "code", scope: "openid", state: "s", code_challenge: challenge, code_challenge_method: "S256", ...params };
  for (const [key, value] of Object.entries(all)) url.searchParams.set(key, value);
  return { verifier, result: await browser.follow(url) };
}

export const landedAt = (result: Awaited<ReturnType<Browser["follow"]>>): URL => {
  if (!("landed" in result)) throw new Error(`no redirect (status ${result.response.status})`);
  return result.landed;
};

export const interactionUid = (url: URL) => /^\/interaction\/([\w-]+)$/.exec(url.pathname)?.[1];

/** "Continue as…" on the login page: the portal sign-in completes the provider's login prompt. */
export async function continueLogin(browser: Browser, uid: string, userId: string, signIn: { authMethods: string[]; authTime: Date }) {
  browser.usePage(`/interaction/${uid}`);
  const returnTo = await completeLogin(uid, { userId, ...signIn });
  return returnTo ? browser.follow(returnTo) : null;
}

/** "Allow" on the consent page. */
export async function allow(browser: Browser, uid: string, userId: string, remember: boolean) {
  browser.usePage(`/interaction/${uid}`);
  const returnTo = await completeConsent(uid, userId, remember, ctx);
  if (!returnTo) throw new Error("consent did not complete");
  return browser.follow(returnTo);
}

/** A request of the client to one of the provider's endpoints: with its secret, or (a public client) its id. */
export function clientRequest(browser: Browser, rp: RelyingParty, path: string, form: Record<string, string>): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (rp.clientSecret) headers.authorization = `Basic ${Buffer.from(`${rp.clientId}:${rp.clientSecret}`).toString("base64")}`;
  const body = new URLSearchParams({ ...(rp.clientSecret ? {} : { client_id: rp.clientId }), ...form });
  return fetch(new URL(path, browser.origin), { method: "POST", headers, body });
}

export const tokenRequest = (browser: Browser, rp: RelyingParty, form: Record<string, string>) => clientRequest(browser, rp, "/oidc/token", form);

export async function introspect(browser: Browser, rp: RelyingParty, token: string): Promise<Record<string, unknown>> {
  return (await clientRequest(browser, rp, "/oidc/token/introspection", { token })).json() as Promise<Record<string, unknown>>;
}

export function redeemCode(browser: Browser, rp: RelyingParty, code: string, verifier: string): Promise<Response> {
  return tokenRequest(browser, rp, { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: rp.redirectUri ?? REDIRECT_URI });
}

export type Tokens = { access_token: string; refresh_token?: string; id_token?: string; expires_in: number };
export const idTokenClaims = (tokens: Tokens) => decodeJwt(tokens.id_token!);
