import { expect, test, type Browser } from "@playwright/test";
import { createUserViaConsole, expectSignedInAs, signIn, sql, submitSignIn, uniqueEmail } from "./support/helpers";

const PASSWORD = "session passphrase e2e";

/** A new user signed in on two browsers. */
async function userOnTwoBrowsers(browser: Browser, prefix: string) {
  const email = uniqueEmail(prefix);
  const { admin } = await createUserViaConsole(browser, { email, password: PASSWORD });
  await admin.close();
  const laptop = await (await browser.newContext()).newPage();
  const phone = await (await browser.newContext()).newPage();
  await signIn(laptop, email, PASSWORD);
  await signIn(phone, email, PASSWORD);
  return { email, laptop, phone };
}

test("a user signs out another of their sessions, which is then signed out", async ({ browser }) => {
  const { email, laptop, phone } = await userOnTwoBrowsers(browser, "sessions");
  await expectSignedInAs(phone, email);

  await laptop.goto("/account/security");
  const rows = laptop.getByTestId("session-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: "This session" })).toHaveCount(1);
  await rows.filter({ hasNotText: "This session" }).getByRole("button", { name: "Sign out" }).click();
  await expect(rows).toHaveCount(1);

  await phone.goto("/account");
  await expect(phone).toHaveURL(/\/sign-in/);
});

test("an admin disables a user, who is out at once and cannot sign in again", async ({ browser }) => {
  const email = uniqueEmail("disabled");
  const { admin, page } = await createUserViaConsole(browser, { email, password: PASSWORD });
  const user = await (await browser.newContext()).newPage();
  await signIn(user, email, PASSWORD);
  await expectSignedInAs(user, email);

  await page.getByRole("link", { name: email }).click();
  // Confirmed, then asked why: the answer goes into the audit trail with the change.
  let reason = "IR";
  page.on("dialog", (dialog) => void (dialog.type() === "prompt" ? dialog.accept(reason) : dialog.accept()));
  // Too short a reason: the button says what is wrong (it has no field to highlight), and nothing changes.
  await page.getByRole("button", { name: "Disable account" }).click();
  await expect(page.getByTestId("form-message")).toHaveText("Say why: it goes into the audit trail.");
  await user.reload();
  await expectSignedInAs(user, email);
  reason = "left the company, HR-1234";
  await page.getByRole("button", { name: "Disable account" }).click();
  await expect(page.getByText("Disabled", { exact: true })).toBeVisible();
  expect(sql(`SELECT metadata->>'justification' FROM audit_events WHERE action = 'user.disable' AND metadata->>'email' = '${email}'`)).toBe("left the company, HR-1234");

  await user.goto("/account");
  await expect(user).toHaveURL(/\/sign-in/);
  await submitSignIn(user, email, PASSWORD);
  await expect(user.getByTestId("form-message")).toHaveText("That email and password do not match an active account.");
  await admin.close();
});

test("a user changes their password: a wrong current one and a guessable new one are refused, other sessions end, and apps are disconnected when asked", async ({ browser }) => {
  const { email, laptop, phone } = await userOnTwoBrowsers(browser, "password-change");
  // An app the user let in, as the consent page leaves it.
  const userId = sql(`SELECT id FROM users WHERE email = '${email}'`);
  sql(`INSERT INTO oauth_consents (user_id, client_id, grant_id, scopes, updated_at) VALUES ('${userId}', 'e2e-app', 'e2e-grant-${userId}', '{openid}', now())`);

  await laptop.goto("/account/security");
  const form = laptop.locator("form").filter({ has: laptop.getByRole("button", { name: "Change password" }) });
  await form.getByLabel("Current password").fill("not my password");
  await form.getByLabel("New password", { exact: true }).fill("a fresh passphrase e2e");
  await form.getByLabel("Repeat new password").fill("a fresh passphrase e2e");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByText("That is not your current password.")).toBeVisible();

  // A guessable new password is refused with the reason, and nothing changes.
  await form.getByLabel("Current password").fill(PASSWORD);
  await form.getByLabel("New password", { exact: true }).fill("password1234");
  await form.getByLabel("Repeat new password").fill("password1234");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(form.getByText(/This password is too easy to guess\. This is similar to a commonly used password\./)).toBeVisible();

  await form.getByLabel("Current password").fill(PASSWORD);
  await form.getByLabel("New password", { exact: true }).fill("a fresh passphrase e2e");
  await form.getByLabel("Repeat new password").fill("a fresh passphrase e2e");
  await form.getByLabel("Also disconnect every app I let in").check();
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(laptop.getByTestId("form-message")).toHaveText("Password changed. 1 other session was signed out. Every app you had let in was disconnected.");
  expect(sql(`SELECT count(*) FROM oauth_consents WHERE user_id = '${userId}'`)).toBe("0");

  await phone.goto("/account");
  await expect(phone).toHaveURL(/\/sign-in/);
  await submitSignIn(phone, email, PASSWORD);
  await expect(phone.getByTestId("form-message")).toHaveText("That email and password do not match an active account.");
  await signIn(phone, email, "a fresh passphrase e2e");
  await expectSignedInAs(phone, email);
});

test("a session left unused past the idle limit is signed out; one in use is not", async ({ browser }) => {
  const { email, laptop, phone } = await userOnTwoBrowsers(browser, "idle");
  await laptop.goto("/account/security");
  await expect(laptop.getByText("A session ends after 12 hours, or after 60 minutes without use.")).toBeVisible();
  const userId = sql(`SELECT id FROM users WHERE email = '${email}'`);
  // The phone's session was last used 61 minutes ago (what an hour on a desk leaves behind).
  const phoneSession = sql(`SELECT id FROM sessions WHERE user_id = '${userId}' ORDER BY created_at DESC LIMIT 1`);
  sql(`UPDATE sessions SET last_seen_at = now() - interval '61 minutes' WHERE id = '${phoneSession}'`);

  await laptop.reload();
  await expect(laptop.getByTestId("session-row")).toHaveCount(1); // the laptop only
  await phone.goto("/account");
  await expect(phone).toHaveURL(/\/sign-in/);
  expect(sql(`SELECT end_reason FROM sessions WHERE id = '${phoneSession}'`)).toBe("idle_timeout");
  expect(sql(`SELECT count(*) FROM audit_events WHERE action = 'session.idle_timeout' AND resource_id = '${phoneSession}'`)).toBe("1");
  await laptop.goto("/account");
  await expectSignedInAs(laptop, email);
});
