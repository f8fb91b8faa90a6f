import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Browser } from "@playwright/test";
import { baseURL } from "../playwright.config";
import { ADMIN_STATE, createUserViaConsole, signIn, sql, uniqueEmail } from "./support/helpers";
import { actionReply } from "./support/servers";

// Hostile input against every server action, route handler and OpenID endpoint of the production
// build: malformed, oversized, wrong-typed and forged requests. None may answer 500, and a refused
// request changes no state. Security records (audit events, sign-in attempts, throttle counters,
// challenges, the provider's short-lived models, last-seen times) may grow: recording refusals is
// their job. The access table: every console action refuses every role the built-in policies keep
// out of its section, and everyone signed out.

const PASSWORD = "hostile input passphrase";

/** The state a refused request must leave alone. */
const STATE_TABLES = [
  "users", "password_credentials", "totp_factors", "passkeys", "backup_codes", "risk_settings_versions", "ip_rules", "setup_tokens",
  "oauth_clients", "oidc_signing_keys", "oauth_consents", "policy_versions", "policy_drafts", "detection_rule_versions", "playbooks",
  "playbook_versions", "notification_channels", "compliance_exceptions", "groups", "group_members",
];
/** Each state table's row count and content hash (sessions: only whether and how they ended). */
function stateDigest(): Record<string, string> {
  const perTable = STATE_TABLES.map((t) => `SELECT '${t}', count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM ${t} x`);
  const sessions = "SELECT 'sessions', coalesce(md5(string_agg(id::text || coalesce(ended_at::text, '') || stage::text, '|' ORDER BY id)), '') FROM sessions";
  return Object.fromEntries(sql([...perTable, sessions].join(" UNION ALL ")).split("\n").map((line) => line.split("|") as [string, string]));
}

type ServerAction = { id: string; file: string; name: string; page: string };
function serverActions(): ServerAction[] {
  const manifest = JSON.parse(readFileSync(path.join(".next", "server", "server-reference-manifest.json"), "utf8")) as {
    node: Record<string, { workers: Record<string, unknown>; filename: string; exportedName: string }>;
  };
  return Object.entries(manifest.node).map(([id, entry]) => {
    // A page that uses the action; dynamic segments get a harmless value.
    const worker = Object.keys(entry.workers)[0]!;
    const page = worker.replace(/^app/, "").replace(/\/page$/, "").replace(/\/\([^)]+\)/g, "").replace(/\[[^\]]+\]/g, "00000000-0000-0000-0000-000000000000") || "/";
    return { id, file: entry.filename, name: entry.exportedName, page };
  });
}

/** Calls a server action the way React does ([previous state, form data] as a multipart reply), or with a raw body. */
async function postAction(action: ServerAction, cookie: string, body: FormData | string, ip: string) {
  const response = await fetch(`${baseURL}${action.page}`, {
    method: "POST",
    headers: { "Next-Action": action.id, Accept: "text/x-component", Origin: baseURL, Cookie: cookie, "X-Forwarded-For": ip },
    body,
    redirect: "manual",
  });
  return { status: response.status, text: await response.text() };
}


// Wrong types, hostile strings and unknown fields for whatever the action expects.
const GARBAGE = actionReply({
  email: ["a", "b"], password: "x".repeat(5_000), id: "../../etc/passwd", userId: "' OR 1=1 --", clientId: "<script>alert(1)</script>",
  incidentId: "not-a-uuid", exceptionId: "00000000-0000-0000-0000-000000000000", roles: ["root", "admin\u0000"], control: "CC9.9", text: "\u0000\uFFFF",
  expiresAt: "yesterday", steps: "{not json", code: "0".repeat(64), name: "", cidr: "999.1.1.1/99", version: "-1",
});

let ipCounter = 0;
/** A fresh documentation-range address per request: no per-IP throttle or block builds up against other tests. */
const nextIp = () => `198.18.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;

async function cookieFor(browser: Browser, roles: string[] | null): Promise<string> {
  if (roles === null) return "";
  const context = roles.includes("admin") ? await browser.newContext({ storageState: ADMIN_STATE }) : await browser.newContext();
  if (!roles.includes("admin")) {
    const email = uniqueEmail(roles[0] ?? "plain");
    await (await createUserViaConsole(browser, { email, password: PASSWORD, roles: roles.filter((r) => r !== "user") })).admin.close();
    await signIn(await context.newPage(), email, PASSWORD);
  }
  const cookies = await context.cookies();
  await context.close();
  return cookies.map((c) => `${c.name}=${c.value}`).join("; ");
}

const SECTION_OF = (file: string) => /^app\/admin\/([^/]+)\//.exec(file)?.[1] ?? null;
// Who may view each console section by the built-in policies (lib/policy/schema.ts).
const VIEWERS: Record<string, string[]> = {
  // Groups are part of the users section.
  users: ["admin"], groups: ["admin"], clients: ["admin"], keys: ["admin"], policies: ["admin"],
  risk: ["admin", "analyst"], incidents: ["admin", "analyst"], audit: ["admin", "auditor"], compliance: ["admin", "auditor"],
};
const PUBLIC_FILES = ["app/(auth)/", "components/shell/actions.ts"];
// Actions that take no input: garbage fields are ignored and they would simply run (sign out, rotate keys…).
const NO_INPUT = new Set([
  "signOutAction", "revokeOtherSessionsAction", "rotateKeysAction", "runTestsAction", "verifyChainAction", "startTotpEnrollmentAction",
  "regenerateBackupCodesAction", "issueRegistrationTokenAction", "passkeyRegistrationOptionsAction", "stepUpPasskeyOptionsAction",
  "mfaStepPasskeyOptionsAction", "passkeySignInOptionsAction", "formatPoliciesAction", "validatePoliciesAction", "startAccessReviewAction",
]);

test.describe.configure({ timeout: 240_000 });

test("server actions: the access table holds for every role, and hostile payloads get answers, never a 500, changing nothing", async ({ browser }) => {
  const actions = serverActions();
  expect(actions.length).toBeGreaterThan(50);
  const cookies = {
    signedOut: await cookieFor(browser, null),
    user: await cookieFor(browser, ["user"]),
    analyst: await cookieFor(browser, ["analyst"]),
    auditor: await cookieFor(browser, ["auditor"]),
    admin: await cookieFor(browser, ["admin"]),
  };
  const before = stateDigest();
  const problems: string[] = [];
  const expectOk = (label: string, status: number) => status >= 500 && problems.push(`${label}: ${status}`);

  for (const action of actions) {
    const label = `${action.file}#${action.name}`;
    const isPublic = PUBLIC_FILES.some((p) => action.file.startsWith(p));
    const section = SECTION_OF(action.file);

    // Signed out: every action but the public ones asks to sign in.
    const signedOut = await postAction(action, cookies.signedOut, GARBAGE, nextIp());
    expectOk(`${label} signed out`, signedOut.status);
    if (!isPublic && !signedOut.text.includes("Your session has ended. Sign in again.")) problems.push(`${label}: signed out, not refused`);

    // The access table: roles kept out of a console section are refused by its actions.
    if (section) {
      for (const role of ["user", "analyst", "auditor"] as const) {
        if (VIEWERS[section]!.includes(role)) continue;
        const refused = await postAction(action, cookies[role], GARBAGE, nextIp());
        expectOk(`${label} as ${role}`, refused.status);
        if (!refused.text.includes("The access policies do not allow you to do this.")) problems.push(`${label}: ${role} not refused`);
      }
    }

    // Forged envelopes, an oversized body and (where the action takes input) wrong types, as an admin.
    // (Signing out accepts anything: it is never refused.)
    const forged = action.name === "signOutAction" ? [] : [
      "not a react reply",
      (() => { const f = new FormData(); f.append("0", "{\"broken\": "); return f; })(),
      (() => { const f = new FormData(); f.append("0", JSON.stringify([1, { get: 2 }])); return f; })(),
      "[]",
      actionReply({ filler: "A".repeat(200_000) }),
      // Well-formed but with references to nothing, and wrong types: only for actions that take input.
      ...(NO_INPUT.has(action.name) ? [] : [(() => { const f = new FormData(); f.append("0", JSON.stringify([{}, "$K1", "$K2", "$@999"])); return f; })(), GARBAGE]),
    ];
    for (const body of forged) {
      const answer = await postAction(action, cookies.admin, body, nextIp());
      expectOk(`${label} forged as admin`, answer.status);
    }
  }

  const unknown = await postAction({ id: "0".repeat(42), file: "", name: "", page: "/account" }, cookies.admin, actionReply({}), nextIp());
  expect(unknown.status, "an unknown action id").toBeLessThan(500);
  expect(problems).toEqual([]);
  expect(stateDigest(), "refused requests changed the database").toEqual(before);
});

test("route handlers and OpenID endpoints: malformed, oversized and forged requests get a 4xx, changing nothing", async ({ browser }) => {
  const admin = await cookieFor(browser, ["admin"]);
  const forgedJwt = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from('{"sub":"admin","scope":"pdp openid"}').toString("base64url")}.`;
  const big = "x".repeat(2 * 1024 * 1024);
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const FORM = "application/x-www-form-urlencoded";
  // A form posted before the page's script ran, with the action fields React writes into it made badly.
  const formPost = (fields: Record<string, string>) => ({
    body: Object.entries({ "$ACTION_REF_1": "", email: "a@example.test", ...fields }).map(([name, value]) => `--X\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join("") + "--X--\r\n",
    type: "multipart/form-data; boundary=X",
    sameOrigin: true,
  });
  const signInAction = JSON.stringify({ id: serverActions().find((a) => a.page === "/sign-in")!.id, bound: "$@1" });
  const cases: { method: string; path: string; body?: string; type?: string; auth?: string; signedIn?: boolean; sameOrigin?: boolean }[] = [
    // Console APIs.
    { method: "GET", path: "/api/v1/audit/export?format=csv&from=%00&q=" + "%FF".repeat(50), signedIn: true },
    { method: "GET", path: "/api/v1/audit/exports/..%2F..%2Fetc%2Fpasswd/manifest", signedIn: true },
    { method: "GET", path: "/api/v1/compliance/report?from=2026-13-45&to=2026-01-01&format=json", signedIn: true },
    { method: "GET", path: "/api/v1/compliance/report?from[]=1&format=json", signedIn: true },
    { method: "POST", path: "/api/v1/compliance/report/verify", body: big.repeat(11), signedIn: true },
    { method: "POST", path: "/api/v1/compliance/report/verify", body: '{"kind":"gatehouse.compliance-report","version":1,"controls":[{"tests":null}]}', signedIn: true },
    { method: "DELETE", path: "/api/v1/audit/public-key", signedIn: true },
    { method: "GET", path: "/api/v1/audit/export?format=jsonl&q=a%00b&actor=%00", signedIn: true },
    { method: "GET", path: "/api/v1/audit/export?format=csv&from=-010000-01-01T00:00", signedIn: true },
    { method: "GET", path: "/admin/audit?from=-010000-01-01T00:00&before=9999999999999999999", signedIn: true },
    { method: "GET", path: "/admin/audit/9999999999999999999", signedIn: true },
    { method: "GET", path: "/admin/risk?range=constructor", signedIn: true },
    { method: "POST", path: "/api/v1/compliance/report/verify", body: JSON.stringify({ kind: "gatehouse.compliance-report", digest: "\u0000'; DROP TABLE users; --" }), signedIn: true },
    // The decision point.
    { method: "POST", path: "/api/v1/authorize", body: "{}", type: "application/json", auth: `Bearer ${forgedJwt}` },
    { method: "POST", path: "/api/v1/authorize", body: big, type: "application/json", auth: "Bearer abc.def.ghi" },
    { method: "GET", path: "/api/v1/authorize", auth: "Bearer " + "A".repeat(10_000) },
    // next-auth.
    { method: "POST", path: "/api/auth/callback/credentials", body: form({ email: "x", password: "y", csrfToken: "forged" }), type: FORM },
    { method: "POST", path: "/api/auth/signout", body: "csrfToken=forged", type: FORM },
    { method: "GET", path: "/api/auth/session?%ZZ" },
    { method: "POST", path: "/api/auth/callback/credentials", body: big, type: FORM },
    // The OpenID provider.
    { method: "POST", path: "/oidc/token", body: form({ grant_type: "authorization_code", code: "forged", code_verifier: "x", client_id: "nobody" }), type: FORM },
    { method: "POST", path: "/oidc/token", body: form({ grant_type: "password", username: "admin", password: "x" }), type: FORM },
    { method: "POST", path: "/oidc/token", body: "{not json", type: "application/json" },
    { method: "POST", path: "/oidc/token", body: big, type: FORM },
    { method: "POST", path: "/oidc/token", body: form({ grant_type: "refresh_token", refresh_token: "forged" }), type: FORM, auth: "Basic " + Buffer.from("nobody:wrong").toString("base64") },
    { method: "POST", path: "/oidc/token/introspection", body: form({ token: forgedJwt }), type: FORM },
    { method: "POST", path: "/oidc/token/revocation", body: form({ token: "x" }), type: FORM, auth: "Basic !!!" },
    { method: "GET", path: "/oidc/auth?response_type=token&client_id=nobody&redirect_uri=javascript:alert(1)" },
    { method: "GET", path: "/oidc/auth?" + "a=1&".repeat(3_000) },
    { method: "POST", path: "/oidc/request", body: form({ client_id: "nobody", request: forgedJwt }), type: FORM },
    { method: "POST", path: "/oidc/reg", body: JSON.stringify({ redirect_uris: ["http://evil.example/cb"] }), type: "application/json", auth: `Bearer ${forgedJwt}` },
    { method: "GET", path: "/oidc/me", auth: `Bearer ${forgedJwt}` },
    { method: "GET", path: "/oidc/me", auth: `DPoP ${forgedJwt}` },
    { method: "GET", path: "/oidc/session/end?id_token_hint=" + forgedJwt },
    { method: "POST", path: "/oidc/session/end/confirm", body: form({ xsrf: "forged", logout: "yes" }), type: FORM },
    { method: "GET", path: "/oidc/jwks", auth: "Bearer x" },
    // Pages with hostile parameters.
    { method: "GET", path: "/admin/users/not-a-uuid", signedIn: true },
    { method: "GET", path: "/admin/audit/99999999999999999999999", signedIn: true },
    { method: "GET", path: "/admin/incidents/%00", signedIn: true },
    { method: "GET", path: "/admin/compliance/%E0%A4%A", signedIn: true },
    { method: "GET", path: "/admin/clients/%E0%A4%A", signedIn: true },
    { method: "GET", path: "/admin/clients/%00", signedIn: true },
    { method: "GET", path: "/admin/risk/attempts/..%2F..", signedIn: true },
    { method: "GET", path: "/interaction/forged-uid" },
    { method: "GET", path: "/setup?token=" + "A".repeat(5_000) },
    { method: "GET", path: "/sign-in?callbackUrl=https://evil.example/" },
    { method: "GET", path: "/admin/groups/%00", signedIn: true },
    { method: "GET", path: "/admin/groups/%E0%A4%A", signedIn: true },
    { method: "GET", path: `/admin/groups/${"A".repeat(300)}`, signedIn: true },
    { method: "GET", path: "/admin/users?group[]=a&group=%00", signedIn: true },
    { method: "GET", path: "/admin/users?q=%00&role=%00&status=%00", signedIn: true },
    { method: "GET", path: "/admin/incidents?q=a%00b&status=%00", signedIn: true },
    { method: "GET", path: "/admin/compliance/access-reviews/%00", signedIn: true },
    { method: "GET", path: "/admin/compliance/access-reviews/00000000-0000-4000-8000-000000000000?show=%00&q=%00", signedIn: true },
    { method: "GET", path: "/api/v1/compliance/access-reviews/%E0%A4%A", signedIn: true },
    { method: "GET", path: "/api/v1/compliance/access-reviews/not-a-uuid", signedIn: true },
    // Forms posted without the script, with their action's fields made badly.
    { method: "POST", path: "/sign-in", ...formPost({ "$ACTION_1:0": "{bad json" }) },
    { method: "POST", path: "/sign-in", ...formPost({ "$ACTION_1:0": signInAction }) },
    { method: "POST", path: "/sign-in", ...formPost({ "$ACTION_1:0": signInAction, "$ACTION_1:1": "[{" }) },
    { method: "POST", path: "/sign-in", ...formPost({ "$ACTION_1:0": signInAction, "$ACTION_1:1": JSON.stringify(Array(2000).fill(1)) }) },
  ];
  const before = stateDigest();
  const answers: string[] = [];
  for (const c of cases) {
    const response = await fetch(`${baseURL}${c.path}`, {
      method: c.method,
      headers: {
        ...(c.type && { "Content-Type": c.type }),
        ...(c.auth && { Authorization: c.auth }),
        ...(c.signedIn && { Cookie: admin }),
        ...(c.sameOrigin && { Origin: baseURL }),
        "X-Forwarded-For": nextIp(),
      },
      body: c.body,
      redirect: "manual",
    }).catch((error: unknown) => ({ status: 0, error }));
    // A server may cut off an oversized upload (status 0 from the client's side): that is not a 500.
    if (response.status >= 500) answers.push(`${c.method} ${c.path.slice(0, 80)}: ${response.status}`);
  }
  expect(answers).toEqual([]);

  // A body of undeclared length (sent in chunks) to what Next.js serves is refused before it is read.
  const chunks = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 64; i++) controller.enqueue(new TextEncoder().encode("A".repeat(16 * 1024)));
      controller.close();
    },
  });
  const streamed = await fetch(`${baseURL}/sign-in`, { method: "POST", body: chunks, duplex: "half", headers: { "Content-Type": "multipart/form-data; boundary=X", Origin: baseURL } } as RequestInit & { duplex: "half" });
  expect(streamed.status).toBe(411);
  expect(await streamed.json()).toEqual({ error: "invalid_request", error_description: "Send the body with a Content-Length header." });
  expect(stateDigest(), "refused requests changed the database").toEqual(before);
});
