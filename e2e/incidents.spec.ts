import { expect, test, type Browser } from "@playwright/test";
import { decodedMail } from "../tests/support/smtp";
import { ADMIN, ADMIN_STATE, createUserViaConsole, signIn, signInAsNewAdmin, sql, submitSignIn, uniqueEmail, withMailServer } from "./support/helpers";

// The server trusts X-Forwarded-For from loopback (playwright.config.ts): one browser context plays
// an attacker at a documentation address, so the block it earns touches no other test.
const ATTACKER = "203.0.113.66";
const PASSWORD = "incident passphrase for e2e";

test("credential stuffing opens an incident, the built-in playbook blocks the source and tells the admins, and an analyst works the incident", async ({ browser }) => {
  test.setTimeout(120_000);
  // The playbook's last step mails the admins: a run whose mail did not go out would end failed.
  await withMailServer((mails) => stuffAndRespond(browser, mails));
});

async function stuffAndRespond(browser: Browser, mails: string[]) {
  const victim = uniqueEmail("victim");
  const analyst = uniqueEmail("analyst");
  const { admin } = await createUserViaConsole(browser, { email: victim, password: PASSWORD, name: "Vic Tim" });
  await admin.close();
  const { admin: again } = await createUserViaConsole(browser, { email: analyst, password: PASSWORD, name: "Ana Lyst", roles: ["analyst"] });
  await again.close();

  // The attack: wrong passwords for many accounts from one address.
  const attacker = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": ATTACKER } });
  const attack = await attacker.newPage();
  const targets = [victim, ...Array.from({ length: 7 }, () => uniqueEmail("target"))];
  for (let i = 0; i < 24; i++) {
    await submitSignIn(attack, targets[i % targets.length]!, `wrong guess ${i}`);
    await expect(attack.getByTestId("form-message")).toBeVisible();
  }

  // The analyst sees the incident appear (detection runs every two seconds) and opens it.
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, analyst, PASSWORD);
  await expect(async () => {
    await page.goto("/admin/incidents");
    await expect(page.getByTestId("incident-row").filter({ hasText: ATTACKER })).toHaveCount(1);
  }).toPass({ timeout: 30_000 });
  const row = page.getByTestId("incident-row").filter({ hasText: ATTACKER });
  await expect(row).toContainText("Credential stuffing");
  await expect(row).toContainText("high");
  await row.getByRole("link").click();
  await expect(page).toHaveURL(/\/admin\/incidents\/[0-9a-f-]{36}$/);

  // The built-in playbook blocks the address (a job on the queue); the incident page shows the run and its step.
  await expect.poll(() => sql(`SELECT coalesce(string_agg(r.status, ','), 'none') FROM playbook_runs r JOIN incident_indicators i ON i.incident_id = r.incident_id WHERE i.kind = 'ip' AND i.value = '${ATTACKER}'`), { timeout: 60_000 }).toBe("succeeded");
  await page.reload();
  await expect(page.getByTestId("playbook-run")).toContainText("succeeded");
  await expect(page.getByTestId("timeline")).toContainText(`Blocked ${ATTACKER}/32 for 24 h.`);
  await expect(page.getByTestId("indicators")).toContainText(ATTACKER);
  expect(mails.map(decodedMail).find((m) => m.includes("[Gatehouse] INC-") && m.includes(`IPs: ${ATTACKER}`))).toContain(ADMIN.email);

  // A response refused (too short a reason) comes back as it was set, not with the defaults.
  const respond = page.getByRole("form", { name: "Respond" });
  await respond.getByLabel("Action").selectOption("block_ip");
  await respond.getByLabel("Hours").fill("2");
  await respond.getByLabel("Scope").selectOption("network");
  await respond.getByLabel("Reason").fill("no");
  await respond.getByRole("button", { name: "Run action" }).click();
  await expect(respond.getByText("Give a reason (at least 3 characters).")).toBeVisible();
  await expect(respond.getByLabel("Hours")).toHaveValue("2");
  await expect(respond.getByLabel("Scope")).toHaveValue("network");

  // Working the incident: a note, then a status change with a reason.
  await page.getByPlaceholder("What you found, what you did, what is next.").fill("Source is a known botnet range.");
  await page.getByRole("button", { name: "Add note" }).click();
  await expect(page.getByTestId("timeline")).toContainText("Source is a known botnet range.");
  const statusForm = page.getByRole("form", { name: "Change status" });
  await statusForm.getByLabel("Status").selectOption("contained");
  await statusForm.getByLabel("Reason").fill("source blocked by the playbook");
  await statusForm.getByRole("button", { name: "Change status" }).click();
  await expect(statusForm.getByRole("status")).toHaveText("Status is now contained.");
  await expect(page.getByTestId("timeline")).toContainText("Status open → contained: source blocked by the playbook");

  // Evidence was frozen at high severity; a snapshot holds audit trail entries, which an analyst does not read by default.
  const incidentId = page.url().split("/").at(-1)!;
  const snapshotOf = () => sql(`SELECT coalesce(min(id::text), '') FROM forensic_snapshots WHERE incident_id = '${incidentId}'`);
  await expect.poll(snapshotOf, { timeout: 30_000 }).not.toBe("");
  const snapshotId = snapshotOf();
  await page.reload();
  await expect(page.getByText("Snapshots hold audit trail entries")).toBeVisible();
  // Refused like any page the policies keep them from: on the record.
  const auditDenials = () => Number(sql("SELECT count(*) FROM audit_events WHERE action = 'access.denied' AND resource_type = 'console' AND resource_id = 'audit'"));
  const deniedBefore = auditDenials();
  expect((await page.request.get(`/admin/incidents/${incidentId}/snapshots/${snapshotId}`)).status()).toBe(403);
  expect(auditDenials()).toBe(deniedBefore + 1);

  // An analyst handles incidents, not policies.
  const policies = await page.goto("/admin/policies");
  expect(policies?.status()).toBe(403);

  // The attacker now has the right password, and is still refused.
  await submitSignIn(attack, victim, PASSWORD);
  await expect(attack.getByTestId("form-message")).toHaveText(/Sign-in from your network is blocked/);
  await attacker.close();
  await context.close();
}

test("the built-in admins channel is tested from the console before an incident needs it: every admin gets the mail", ({ browser }) => withMailServer(async (mails) => {
  const admin = await browser.newContext({ storageState: ADMIN_STATE });
  const page = await admin.newPage();
  await page.goto("/admin/incidents/channels");
  const builtIn = page.getByTestId("builtin-channel");
  await builtIn.getByRole("button", { name: "Send a test" }).click();
  await expect(builtIn.getByTestId("form-message")).toContainText("Test sent");
  expect(mails.find((m) => m.includes("Test notification for channel admins"))).toContain(ADMIN.email);
  await admin.close();
}));

test("an admin changes a detection rule with a reason: it is saved as a new version with its history, and a page showing an older version saves nothing", async ({ browser }) => {
  const { context, page, email } = await signInAsNewAdmin(browser, "ruleadmin");
  // Another admin's tab, opened before the change.
  const stale = await context.newPage();
  await stale.goto("/admin/incidents/rules");

  await page.goto("/admin/incidents/rules");
  const form = page.getByRole("form", { name: "Settings of user_reported_sign_in" });
  const card = page.locator("section").filter({ has: form });
  const joinWindow = form.getByLabel("Joins an incident seen within (min)");
  const before = await joinWindow.inputValue();
  try {
    await joinWindow.fill("61");
    await form.getByRole("button", { name: "Save as a new version" }).click();
    // No reason given: refused beside the field, nothing saved.
    await expect(form.getByText("Say why, for the history.")).toBeVisible();
    await form.getByLabel("Why this change").fill("reports of one person within an hour belong together");
    await form.getByRole("button", { name: "Save as a new version" }).click();
    await expect(form.getByRole("status")).toHaveText(/Saved as version \d+/);
    const version = Number(sql("SELECT max(version) FROM detection_rule_versions WHERE rule = 'user_reported_sign_in'"));

    await page.reload();
    await expect(card).toContainText(`In force: version ${version}.`);
    await card.getByText(/^History/).click();
    const newest = card.getByRole("list", { name: "History of User reported a sign-in" }).getByRole("listitem").first();
    await expect(newest).toContainText(`Version ${version}`);
    await expect(newest).toContainText(email);
    await expect(newest).toContainText("reports of one person within an hour belong together");
    await expect(newest).toContainText(`joinWindowMinutes: ${before} → 61`);

    // The older page's values would quietly undo the change: refused, naming the newer version, and
    // refused again if sent a second time.
    const staleForm = stale.getByRole("form", { name: "Settings of user_reported_sign_in" });
    await staleForm.getByLabel("Joins an incident seen within (min)").fill("90");
    await staleForm.getByLabel("Why this change").fill("longer window");
    const refusal = `Version ${version} of this rule was saved after this page showed version ${version - 1}: nothing was saved.`;
    for (let attempt = 0; attempt < 2; attempt++) {
      await staleForm.getByRole("button", { name: "Save as a new version" }).click();
      await expect(staleForm.getByTestId("form-message")).toContainText(refusal);
    }
    expect(sql("SELECT join_window_minutes || '/' || max(version) OVER () FROM detection_rule_versions WHERE rule = 'user_reported_sign_in' ORDER BY version DESC LIMIT 1")).toBe(`61/${version}`);
  } finally {
    // Back as it was, for the other journeys (risk.spec reports sign-ins to this rule).
    await page.goto("/admin/incidents/rules");
    await joinWindow.fill(before);
    await form.getByLabel("Why this change").fill("back to the window the other journeys expect");
    await form.getByRole("button", { name: "Save as a new version" }).click();
    await expect(form.getByRole("status")).toHaveText(/Saved as version \d+\. Detection uses it from its next pass\./);
    await context.close();
  }
});
