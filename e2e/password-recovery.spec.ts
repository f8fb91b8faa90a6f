import { expect, test } from "@playwright/test";
import { decodedMail, startSmtpSink } from "../tests/support/smtp";
import { SMTP_PORT } from "../playwright.config";
import { ADMIN_STATE, createUserViaConsole, expectSignedInAs, signIn, sql, submitSignIn, uniqueEmail } from "./support/helpers";

// A user who forgot their password gets a link by mail, chooses a new password, and signs in.

const PASSWORD = "forgotten passphrase e2e";
const NEW_PASSWORD = "remembered passphrase e2e";
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;

test.beforeAll(async () => {
  smtp = await startSmtpSink(SMTP_PORT);
});
test.afterAll(() => smtp.close());

const mailTo = (email: string) => smtp.mails.find((m) => m.includes(`To: ${email}`));

test("a user resets a forgotten password with the link mailed to them", async ({ browser, page }) => {
  const email = uniqueEmail("forgetful");
  await (await createUserViaConsole(browser, { email, password: PASSWORD, name: "Fay Forgetful" })).admin.close();

  await page.goto("/sign-in");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  // A client-side navigation: the sign-in page's own Email field is there until it lands.
  await expect(page.getByRole("heading", { name: "Reset your password" })).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByRole("status")).toContainText(`If ${email} has a Gatehouse account, a link to choose a new password is on its way.`);

  await expect.poll(() => mailTo(email), { timeout: 15_000 }).toBeTruthy();
  const link = /https?:\/\/[^\s]+\/sign-in\/reset\?token=[\w-]+/.exec(decodedMail(mailTo(email)!))![0];
  await page.goto(new URL(link).pathname + new URL(link).search);
  await expect(page.getByText(`For ${email}.`)).toBeVisible();
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("Repeat new password").fill("not the same passphrase");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByText("The two new passwords differ.")).toBeVisible();
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password is changed");

  // The link worked once; the old password is gone, the new one signs in.
  await page.goto(new URL(link).pathname + new URL(link).search);
  await expect(page.getByRole("heading", { name: "Link not valid" })).toBeVisible();
  await submitSignIn(page, email, PASSWORD);
  // By its text: after a client-side navigation Next's (empty) route announcer is an alert too.
  await expect(page.getByRole("alert").filter({ hasText: "do not match" })).toBeVisible();
  await signIn(page, email, NEW_PASSWORD);
  await expectSignedInAs(page, email);

  // A sign-in from a browser the account had never used is mailed to its owner (a security notice).
  const notice = () => smtp.mails.map(decodedMail).find((m) => m.includes(`To: ${email}`) && m.includes("Subject: New sign-in to your Gatehouse account"));
  await expect.poll(notice, { timeout: 20_000 }).toBeTruthy();
  expect(notice()).toContain("/account/security");
  await page.goto("/account/security");
  await expect(page.getByText(`Gatehouse emails ${email} when a new browser signs in`)).toBeVisible();
});

test("an unknown address gets the same answer, and no mail", async ({ page }) => {
  const email = uniqueEmail("nobody");
  await page.goto("/sign-in/forgot");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await expect(page.getByRole("status")).toContainText(`If ${email} has a Gatehouse account, a link to choose a new password is on its way.`);
  await page.waitForTimeout(500);
  expect(smtp.mails.some((m) => m.includes(email))).toBe(false);
});

test("after an incident requires a new password, the password alone is refused and the mailed link sets the new one", async ({ browser, page }) => {
  const email = uniqueEmail("distrusted");
  await (await createUserViaConsole(browser, { email, password: PASSWORD, name: "Dee Distrusted" })).admin.close();
  // What the incident playbook's require_password_reset step sets (lib/auth/users.ts requirePasswordReset).
  sql(`UPDATE users SET password_reset_required_at = now() WHERE email = '${email}'`);
  // The admin's view of the account says what that means for the next sign-in.
  const admin = await browser.newContext({ storageState: ADMIN_STATE });
  const adminPage = await admin.newPage();
  await adminPage.goto(`/admin/users/${sql(`SELECT id FROM users WHERE email = '${email}'`)}`);
  await expect(adminPage.getByTestId("password-status")).toContainText("the current password is distrusted");
  await admin.close();

  await submitSignIn(page, email, PASSWORD);
  await expect(page.getByTestId("form-message")).toContainText("Your password must be replaced: it may be known to someone else. A link to choose a new one is on its way to your email address");
  await expect(page).toHaveURL(/\/sign-in/);

  await expect.poll(() => mailTo(email), { timeout: 15_000 }).toBeTruthy();
  const link = new URL(/https?:\/\/[^\s]+\/sign-in\/reset\?token=[\w-]+/.exec(decodedMail(mailTo(email)!))![0]);
  await page.goto(link.pathname + link.search);
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password is changed");
  await signIn(page, email, NEW_PASSWORD);
  await expectSignedInAs(page, email);
});

test("a user confirms their email address with the link mailed to them, and apps see it verified", async ({ browser, page }) => {
  const email = uniqueEmail("confirming");
  await (await createUserViaConsole(browser, { email, password: PASSWORD, name: "Cora Confirm" })).admin.close();
  await signIn(page, email, PASSWORD);
  await page.goto("/account");
  await expect(page.getByTestId("email-verification")).toHaveText("Not verified");
  await page.getByRole("button", { name: "Email me a confirmation link" }).click();
  await expect(page.getByRole("status")).toContainText(`A link is on its way to ${email}`);

  const confirmation = () => smtp.mails.map(decodedMail).find((m) => m.includes(`To: ${email}`) && m.includes("Subject: Confirm your email address"));
  await expect.poll(confirmation, { timeout: 15_000 }).toBeTruthy();
  const link = /https?:\/\/[^\s]+\/verify-email\?token=[\w-]+/.exec(confirmation()!)![0];
  // Opening it (as a mail scanner would) confirms nothing; the button does, once.
  await page.goto(link);
  await expect(page.getByText(`Confirm that ${email} is yours.`)).toBeVisible();
  await page.goto(link);
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByRole("status")).toContainText(`${email} is confirmed`);
  await page.goto("/account");
  await expect(page.getByTestId("email-verification")).toContainText("Verified");
  await expect(page.getByRole("button", { name: "Email me a confirmation link" })).toHaveCount(0);
  await page.goto(link);
  await expect(page.getByRole("heading", { name: "Link not valid" })).toBeVisible();
});
