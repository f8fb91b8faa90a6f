import type { ChildProcess } from "node:child_process";
import { expect, test } from "@playwright/test";
import { callAction, EXTRA_ADMIN, freshDatabase, serverSecrets, signInOver, startServer, stopped } from "./support/servers";
import { totpCode } from "./support/helpers";

// Two instances on one PostgreSQL: what is changed on one is in force on the other within a second
// (a session ended, a policy published, an IP blocked, a signing key rotated), and the sign-in
// throttle counts attempts made on both.

const A = "http://localhost:3311";
const B = "http://localhost:3312";
const WITHIN = { timeout: 1_000, intervals: [50] };

let servers: ChildProcess[] = [];
let database: ReturnType<typeof freshDatabase>;
let admin: string;

test.describe.configure({ mode: "serial", timeout: 120_000 });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  database = freshDatabase("gatehouse_two");
  const env = { ...serverSecrets(), DATABASE_URL: database.url };
  // One at a time: the first creates the admin and applies the migrations.
  servers = [await startServer(3311, env)];
  servers.push(await startServer(3312, env));
  // Publishing policies needs a second factor the account had before its session: the admin sets
  // up an authenticator app, then signs in again with it.
  const first = (await signInOver(A, EXTRA_ADMIN.email, EXTRA_ADMIN.password))!;
  const started = await callAction(A, "startTotpEnrollmentAction", {}, { cookie: first });
  const secret = /"secret":"([A-Z2-7]+)"/.exec(started.text)?.[1];
  expect(secret).toBeTruthy();
  expect((await callAction(A, "confirmTotpEnrollmentAction", { code: totpCode(secret!) }, { cookie: first })).text).toContain("Authenticator app set up.");
  const pending = (await signInOver(A, EXTRA_ADMIN.email, EXTRA_ADMIN.password))!;
  const verified = await callAction(A, "verifyMfaStepAction", { method: "totp", code: totpCode(secret!, 1) }, { cookie: pending });
  expect(verified.text).toContain('"redirectTo"');
  admin = verified.cookie;
  expect(admin).toBeTruthy();
});

test.afterAll(async () => {
  for (const server of servers) server.kill("SIGTERM");
  await Promise.all(servers.map(stopped));
  database?.drop();
});

const status = async (base: string, path: string, cookie: string) => (await fetch(`${base}${path}`, { headers: { Cookie: cookie }, redirect: "manual" })).status;

test("a session ended on one instance is refused by the other at once", async () => {
  const email = `member-${Date.now()}@example.test`;
  expect((await callAction(A, "createUserAction", { email, name: "Mo Member", password: "member passphrase e2e" }, { cookie: admin })).text).toContain(`Created ${email}.`);
  const cookie = (await signInOver(A, email, "member passphrase e2e"))!;
  expect(await status(B, "/account", cookie)).toBe(200);
  await callAction(A, "signOutAction", {}, { cookie });
  await expect.poll(() => status(B, "/account", cookie), WITHIN).toBe(307);
});

test("a policy published on one instance is in force on the other within a second", async () => {
  const email = `analyst-${Date.now()}@example.test`;
  const created = await callAction(A, "createUserAction", { email, name: "Ann Analyst", password: "analyst passphrase e2e", roles: ["analyst"] }, { cookie: admin });
  expect(created.text).toContain(`Created ${email}.`);
  const analyst = (await signInOver(B, email, "analyst passphrase e2e"))!;
  expect(await status(B, "/admin/audit", analyst)).toBe(403);

  const editor = await fetch(`${A}/admin/policies`, { headers: { Cookie: admin } });
  expect(editor.status).toBe(200);
  const { DEFAULT_POLICIES } = await import("../lib/policy/schema");
  const text = `${DEFAULT_POLICIES}\n@id("analysts-view-audit")\npermit (principal in Gatehouse::Role::"analyst", action == Gatehouse::Action::"view", resource == Gatehouse::Console::"audit");\n`;
  // The version the editor showed as in force (this text is written against it): the publish is refused if another came since.
  const baseVersion = /In force: version (\d+)/.exec(await editor.text())?.[1];
  expect(baseVersion).toBeDefined();
  const published = await callAction(A, "publishPoliciesAction", { text, comment: "analysts read the audit trail", baseVersion: baseVersion! }, { cookie: admin });
  expect(published.text).toContain("Published as version");
  await expect.poll(() => status(B, "/admin/audit", analyst), WITHIN).toBe(200);
});

test("an IP blocked on one instance is refused by the other at once", async () => {
  const attacker = "203.0.113.77";
  const added = await callAction(A, "addIpRuleAction", { cidr: `${attacker}/32`, kind: "block", note: "two-instance test" }, { cookie: admin });
  expect(added.text).toContain("is now on the block list");
  await expect
    .poll(async () => (await callAction(B, "signInAction", { email: EXTRA_ADMIN.email, password: EXTRA_ADMIN.password }, { ip: attacker })).text, WITHIN)
    .toContain("Sign-in from your network is blocked");
});

test("a signing key rotated on one instance is published by the other within a second", async () => {
  const kids = async (base: string) => ((await (await fetch(`${base}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  const before = await kids(B);
  const rotated = await callAction(A, "rotateKeysAction", {}, { cookie: admin });
  const newKids = /New signing keys (.+) are active/.exec(rotated.text)?.[1]?.split(", ") ?? [];
  expect(newKids).toHaveLength(2);
  expect(before.filter((k) => newKids.includes(k))).toEqual([]);
  await expect.poll(async () => (await kids(B)).filter((k) => newKids.includes(k)).length, WITHIN).toBe(2);
});

test("the sign-in throttle counts attempts on both instances", async () => {
  const email = `target-${Date.now()}@example.test`;
  // Five failures, alternating instances (and addresses), lock the account name for everyone.
  for (let i = 0; i < 5; i++) {
    const { text } = await callAction(i % 2 ? B : A, "signInAction", { email, password: `guess ${i}` }, { ip: `198.51.100.${i + 10}` });
    expect(text).toContain("That email and password do not match an active account.");
  }
  for (const base of [A, B]) {
    const { text } = await callAction(base, "signInAction", { email, password: "guess 6" }, { ip: "198.51.100.99" });
    expect(text, base).toContain("Too many sign-in attempts");
  }
});
