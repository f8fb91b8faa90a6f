import { expect, test, type Browser } from "@playwright/test";
import { addVirtualAuthenticator, createUserViaConsole, expectSignedInAs, signInAsNewAdmin, signIn, signOut, sql, stepUpAsAdmin, submitSignIn, uniqueEmail, withMailServer, ADMIN_STATE } from "./support/helpers";

// The server trusts X-Forwarded-For from loopback (playwright.config.ts), so each browser context
// plays a client in a known place of the shipped GeoIP database.
const BERLIN = "85.214.132.117";
const TOKYO = "133.242.0.1";
const PASSWORD = "risk passphrase for e2e";

async function newUser(browser: Browser, prefix: string) {
  const email = uniqueEmail(prefix);
  const { admin } = await createUserViaConsole(browser, { email, password: PASSWORD, name: "Riya Risk" });
  await admin.close();
  return email;
}

test("a sign-in from Tokyo minutes after one from Berlin must use a passkey, and the admin sees why", async ({ browser }) => {
  const email = await newUser(browser, "traveller");
  const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": BERLIN } });
  const page = await context.newPage();
  const { presence } = await addVirtualAuthenticator(context, page, false);

  await signIn(page, email, PASSWORD);
  await page.goto("/account/security");
  await presence(true);
  await page.getByLabel("Passkey name").fill("Travel laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByRole("status")).toHaveText("Passkey “Travel laptop” added.");
  await page.getByRole("button", { name: "I have saved them" }).click();
  await presence(false);
  await signOut(page);

  // Same browser, now in Tokyo: the password alone is not enough, and only a passkey is offered.
  await context.setExtraHTTPHeaders({ "x-forwarded-for": TOKYO });
  await submitSignIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/sign-in\/verify/);
  await expect(page.getByText("This sign-in needs one of your passkeys.")).toBeVisible();
  await expect(page.locator("label", { hasText: "Authenticator app" })).toHaveCount(0);
  await presence(true);
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expectSignedInAs(page, email);

  await page.goto("/account/security");
  const activity = page.getByTestId("activity-row");
  await expect(activity.first()).toContainText("Chiyoda City, JP");
  await expect(activity.first()).toContainText("This session");
  await expect(activity.nth(1)).toContainText("Berlin, DE");
  await context.close();

  // The admin sees the risk overview, finds the attempt in the user's sign-ins (other journeys'
  // attacks may fill the overview's riskiest list) and reads its decision and factors.
  const admin = await browser.newContext({ storageState: ADMIN_STATE });
  const console = await admin.newPage();
  await console.goto("/admin/risk?range=24h");
  await expect(console.getByTestId("risk-timeline")).toBeVisible();
  await expect(console.getByTestId("risk-distribution")).toBeVisible();
  await console.goto(`/admin/users/${sql(`SELECT id FROM users WHERE email = '${email}'`)}`);
  await console.getByTestId("activity-row").filter({ hasText: "Chiyoda City, JP" }).getByRole("link").click();
  await expect(console.getByRole("heading", { name: "Sign-in attempt" })).toBeVisible();
  await expect(console.getByText("Require a passkey")).toBeVisible();
  await expect(console.getByTestId("factor-row")).toHaveText([/Impossible travel.*km from Berlin, DE to Chiyoda City, JP/, /Country never seen.*JP/, /Network never seen/]);
  await admin.close();
});

test("“this wasn't me” signs out the other browser and raises a security event", async ({ browser }) => {
  // The takeover playbook mails the admins last: a run whose mail did not go out would end failed.
  await withMailServer(() => reportSignIn(browser));
});

async function reportSignIn(browser: Browser) {
  const email = await newUser(browser, "reporter");
  const mine = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": BERLIN } });
  const intruder = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": "141.20.1.1" } });
  const myPage = await mine.newPage();
  const theirPage = await intruder.newPage();
  await signIn(myPage, email, PASSWORD);
  await signIn(theirPage, email, PASSWORD);

  await myPage.goto("/account/security");
  const theirs = myPage.getByTestId("activity-row").first();
  await expect(theirs).toContainText("141.20.1.1");
  myPage.once("dialog", (dialog) => dialog.accept());
  await theirs.getByRole("button", { name: "This wasn’t me" }).click();
  await expect(myPage.getByTestId("notice")).toContainText("Reported. That sign-in's session is signed out");
  await expect(myPage.getByTestId("activity-row").first()).toContainText("Reported");

  await theirPage.goto("/account");
  await expect(theirPage).toHaveURL(/\/sign-in/);
  expect(sql(`SELECT count(*) FROM audit_events WHERE action = 'risk.user_reported_sign_in' AND actor_label = '${email}'`)).toBe("1");

  // The built-in takeover playbook answers the report: the password is distrusted, so this session
  // (which had only the password) ends too; with no second factor to prove who is there, the
  // password alone no longer signs in, and the owner is sent to recovery or to an admin.
  const run = () => sql(`SELECT r.status FROM playbook_runs r JOIN alerts a ON a.id = r.alert_id WHERE a.user_id = (SELECT id FROM users WHERE email = '${email}')`);
  await expect.poll(run, { timeout: 30_000 }).toBe("succeeded");
  await myPage.goto("/account");
  await expect(myPage).toHaveURL(/\/sign-in/);
  await submitSignIn(myPage, email, PASSWORD);
  await expect(myPage.getByTestId("form-message")).toContainText("Your password must be replaced: it may be known to someone else.");
  await mine.close();
  await intruder.close();
}

test("an IP range on the block list is refused at the next attempt", async ({ browser }) => {
  const email = await newUser(browser, "blocked");
  const admin = await browser.newContext({ storageState: ADMIN_STATE });
  const console = await admin.newPage();
  await console.goto("/admin/risk/ip-rules");
  await console.getByLabel("IP address or range").fill("not an address");
  await console.getByLabel("Reason").fill("e2e attack range");
  await console.getByRole("button", { name: "Add rule" }).click();
  await expect(console.getByText("Enter an IP address or a CIDR range such as 203.0.113.0/24.")).toBeVisible();
  await console.getByLabel("IP address or range").fill("198.18.7.99/24");
  await console.getByRole("button", { name: "Add rule" }).click();
  await expect(console.getByRole("status")).toHaveText("198.18.7.0/24 is now on the block list.");
  await expect(console.getByTestId("ip-rule-row").filter({ hasText: "198.18.7.0/24" })).toContainText("e2e attack range");

  const attacker = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": "198.18.7.42" } });
  const page = await attacker.newPage();
  await submitSignIn(page, email, PASSWORD);
  await expect(page.getByTestId("form-message")).toHaveText(/Sign-in from your network is blocked for now/);

  // Lifting a block gives access back: a step-up first, unless this admin session verified recently.
  const rule = console.getByTestId("ip-rule-row").filter({ hasText: "198.18.7.0/24" });
  const remove = async () => {
    console.once("dialog", (dialog) => dialog.accept());
    await rule.getByRole("button", { name: "Remove" }).click();
  };
  const stepUp = console.getByTestId("form-message").filter({ hasText: "Confirm it is you" });
  await remove();
  await expect.poll(async () => (await stepUp.isVisible()) || (await rule.count()) === 0).toBe(true);
  if (await stepUp.isVisible()) {
    await stepUpAsAdmin(console);
    await remove();
  }
  await expect(rule).toHaveCount(0);
  await signIn(page, email, PASSWORD);
  await expectSignedInAs(page, email);
  await signOut(page);
  await attacker.close();
  await admin.close();
});

test("an admin saves stricter risk settings as a new version; a ladder that does not rise is refused", async ({ browser }) => {
  const { context, page } = await signInAsNewAdmin(browser, "riskadmin");

  await page.goto("/admin/risk/settings");
  await page.getByLabel("Require MFA from").fill("0.2");
  await page.getByLabel("Why this change").fill("make MFA easier to trigger");
  await page.getByRole("button", { name: "Save as a new version" }).click();
  await expect(page.getByTestId("thresholds-error")).toHaveText("Thresholds must rise: watch < MFA < passkey < block.");

  await page.getByLabel("Require MFA from").fill("0.45");
  await page.getByLabel("Device never seen for this user").fill("0.5");
  await page.getByRole("button", { name: "Save as a new version" }).click();
  await expect(page.getByRole("status")).toHaveText(/Saved as version \d+/);
  await page.reload();
  await expect(page.getByRole("heading", { name: /Settings in force: version \d+/ })).toBeVisible();
  await expect(page.getByTestId("settings-history").getByRole("listitem").first()).toContainText("make MFA easier to trigger");
  expect(sql("SELECT settings->'weights'->>'new_device' FROM risk_settings_versions ORDER BY version DESC LIMIT 1")).toBe("0.5");

  // Back to the defaults, so the other journeys run on the ladder they expect.
  await page.getByLabel("Require MFA from").fill("0.5");
  await page.getByLabel("Device never seen for this user").fill("0.25");
  await page.getByLabel("Why this change").fill("restore defaults");
  await page.getByRole("button", { name: "Save as a new version" }).click();
  await expect(page.getByRole("status")).toHaveText(/Saved as version \d+/);
  await context.close();
});
