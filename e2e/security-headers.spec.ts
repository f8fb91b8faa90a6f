import { expect, test } from "@playwright/test";
import { ADMIN_STATE } from "./support/helpers";

const nonceOf = (csp: string | undefined) => /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp ?? "")?.[1];

test("pages carry a strict CSP with a fresh nonce, and no script is refused on the way through the console", async ({ browser, request }) => {
  const first = await request.get("/sign-in");
  const second = await request.get("/sign-in");
  const csp = first.headers()["content-security-policy"];
  expect(csp).toContain("'strict-dynamic'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).not.toContain("unsafe-eval");
  expect(nonceOf(csp)).toBeTruthy();
  expect(nonceOf(second.headers()["content-security-policy"])).not.toBe(nonceOf(csp));
  // Next.js puts the response's nonce on each of its scripts.
  const html = await first.text();
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  expect(scripts.length).toBeGreaterThan(0);
  for (const tag of scripts) expect(tag).toContain(`nonce="${nonceOf(csp)}"`);
  expect(first.headers()).toMatchObject({
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
  });
  expect(first.headers()["permissions-policy"]).toContain("camera=()");

  // A signed-in admin walks through pages with charts, forms and WebAuthn code: nothing is blocked.
  const context = await browser.newContext({ storageState: ADMIN_STATE });
  // Session and device cookies: out of scripts' reach, not sent on cross-site subrequests. (Secure
  // is set when GATEHOUSE_URL is https; these tests run on plain http://localhost.)
  const cookies = await context.cookies();
  expect(cookies.map((c) => c.name)).toEqual(expect.arrayContaining(["authjs.session-token", "gatehouse_device"]));
  for (const cookie of cookies) expect({ name: cookie.name, httpOnly: cookie.httpOnly, sameSite: cookie.sameSite }).toEqual({ name: cookie.name, httpOnly: true, sameSite: "Lax" });
  const page = await context.newPage();
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  for (const path of ["/account", "/account/security", "/admin/risk", "/admin/incidents", "/admin/compliance", "/admin/policies"]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  }
  // Hydrated: a client-side navigation works.
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Audit" }).click();
  await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible();
  expect(violations).toEqual([]);
  await context.close();
});

test("the OpenID provider names its endpoints on the public URL, whatever Host or X-Forwarded-Host a request carries", async ({ request, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  for (const headers of [{ "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" }, { host: "evil.example" }] as Record<string, string>[]) {
    const discovery = (await (await request.get("/.well-known/openid-configuration", { headers })).json()) as Record<string, string>;
    expect(discovery.issuer).toBe(origin);
    for (const key of ["authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"]) {
      expect(discovery[key]?.startsWith(`${origin}/`), `${key}: ${discovery[key]} with ${JSON.stringify(headers)}`).toBe(true);
    }
  }
});

test("the OpenID provider's responses have the security headers too", async ({ request }) => {
  for (const path of ["/.well-known/openid-configuration", "/oidc/auth?client_id=nobody"]) {
    const response = await request.get(path);
    const headers = response.headers();
    expect(headers["content-security-policy"], path).toContain("default-src 'none'");
    expect(headers["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(headers["strict-transport-security"], path).toBe("max-age=63072000; includeSubDomains");
    expect(headers["x-content-type-options"], path).toBe("nosniff");
  }
});
