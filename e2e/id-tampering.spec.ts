import { randomUUID } from "node:crypto";
import { expect, test, type Browser } from "@playwright/test";
import { baseURL } from "../playwright.config";
import { createUserViaConsole, signIn, sql, uniqueEmail } from "./support/helpers";
import { callAction } from "./support/servers";

// Id tampering: a signed-in user sends the ids of another user's sessions, devices, sign-in
// attempts, passkeys and connected apps to their own account actions. Each is refused or matches
// nothing, and the other user's rows are exactly as they were. The same calls with the caller's
// own ids work, so the refusals are not the actions failing for everyone.

const PASSWORD = "id tampering passphrase";

async function signedInUser(browser: Browser, prefix: string) {
  const email = uniqueEmail(prefix);
  await (await createUserViaConsole(browser, { email, password: PASSWORD })).admin.close();
  const context = await browser.newContext();
  await signIn(await context.newPage(), email, PASSWORD);
  const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  await context.close();
  const userId = sql(`SELECT id FROM users WHERE email = '${email}'`);
  return { email, userId, cookie };
}

/** Everything of one user's that an account action could change. */
function rowsOf(userId: string): string {
  return sql(`SELECT md5(concat_ws('|',
    (SELECT string_agg(id || coalesce(ended_at::text, ''), ',' ORDER BY id) FROM sessions WHERE user_id = '${userId}'),
    (SELECT string_agg(id || coalesce(trusted_until::text, ''), ',' ORDER BY id) FROM devices WHERE user_id = '${userId}'),
    (SELECT string_agg(id || name, ',' ORDER BY id) FROM passkeys WHERE user_id = '${userId}'),
    (SELECT string_agg(client_id || array_to_string(scopes, ' '), ',' ORDER BY client_id) FROM oauth_consents WHERE user_id = '${userId}'),
    (SELECT count(*)::text FROM audit_events WHERE actor_id = '${userId}' OR resource_id IN (SELECT id::text FROM login_attempts WHERE user_id = '${userId}'))))`);
}

test("account actions never reach another user's sessions, devices, sign-ins, passkeys or apps", async ({ browser }) => {
  const victim = await signedInUser(browser, "victim");
  const attacker = await signedInUser(browser, "attacker");

  // The victim's resources: a session, a trusted device, a sign-in attempt, a passkey, a connected app.
  const sessionId = sql(`SELECT id FROM sessions WHERE user_id = '${victim.userId}' AND ended_at IS NULL LIMIT 1`);
  const deviceId = sql(`SELECT id FROM devices WHERE user_id = '${victim.userId}' LIMIT 1`);
  sql(`UPDATE devices SET trusted_until = now() + interval '30 days' WHERE id = '${deviceId}'`);
  const attemptId = sql(`SELECT id FROM login_attempts WHERE user_id = '${victim.userId}' ORDER BY at DESC LIMIT 1`);
  const passkeyId = randomUUID();
  sql(`INSERT INTO passkeys (id, user_id, credential_id, public_key, counter, transports, aaguid, name, backup_eligible, backed_up)
       VALUES ('${passkeyId}', '${victim.userId}', '${randomUUID()}', '\\x00', 0, '{}', '00000000-0000-0000-0000-000000000000', 'Victim key', false, false)`);
  const clientId = `tamper_${Date.now()}`;
  sql(`INSERT INTO oauth_clients (id, name, source, metadata, updated_at) VALUES ('${clientId}', 'Victim app', 'console', '{}', now())`);
  sql(`INSERT INTO oauth_consents (user_id, client_id, grant_id, scopes, updated_at) VALUES ('${victim.userId}', '${clientId}', 'g-${clientId}', '{openid,email}', now())`);
  for (const id of [sessionId, deviceId, attemptId]) expect(id).toMatch(/^[0-9a-f-]{36}$/);
  const before = rowsOf(victim.userId);

  const asAttacker = (name: string, fields: Record<string, string>) => callAction(baseURL, name, fields, { cookie: attacker.cookie });
  const refusals: [string, Record<string, string>, string][] = [
    ["revokeSessionAction", { sessionId }, '"ok":false'],
    ["revokeDeviceTrustAction", { deviceId }, "No trusted device to forget."],
    ["reportSignInAction", { attemptId }, "That sign-in is not in your activity."],
    ["renamePasskeyAction", { passkeyId, name: "Owned" }, "That passkey does not exist."],
    ["removePasskeyAction", { passkeyId }, '"ok":false'],
    ["revokeAppAction", { clientId }, "That app is not connected."],
  ];
  for (const [action, fields, expected] of refusals) {
    const { status, text } = await asAttacker(action, fields);
    expect(status, action).toBe(200);
    expect(text, action).toContain(expected);
  }
  expect(rowsOf(victim.userId), "the victim's rows changed").toBe(before);
  expect(sql(`SELECT count(*) FROM sessions WHERE id = '${sessionId}' AND ended_at IS NULL`)).toBe("1");
  expect(sql(`SELECT name FROM passkeys WHERE id = '${passkeyId}'`)).toBe("Victim key");

  // The same action with the attacker's own session id works: the refusal above was about ownership.
  const ownSession = sql(`SELECT id FROM sessions WHERE user_id = '${attacker.userId}' AND ended_at IS NULL LIMIT 1`);
  const own = await asAttacker("revokeSessionAction", { sessionId: ownSession });
  expect(own.text).toContain('"ok":true');
  expect(sql(`SELECT count(*) FROM sessions WHERE id = '${ownSession}' AND ended_at IS NOT NULL`)).toBe("1");
});
