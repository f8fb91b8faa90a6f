import { expect, test } from "@playwright/test";
import { createUserViaConsole, expectSignedInAs, signIn, signOut, sql, submitAsAdmin, submitSignIn, uniqueEmail } from "./support/helpers";

const PASSWORD = "temporary passphrase for e2e";
const NEW_PASSWORD = "a fresh passphrase after the incident";
const GENERIC = "That email and password do not match an active account.";

test("a user given a temporary password by an admin chooses their own at sign-in; only the new one works after", async ({ browser }) => {
  const email = uniqueEmail("reset");
  const { admin, page: adminPage } = await createUserViaConsole(browser, { email, password: "a forgotten passphrase e2e", name: "Rae Reset" });
  const userId = sql(`SELECT id FROM users WHERE email = '${email}'`);
  await adminPage.goto(`/admin/users/${userId}`);
  adminPage.on("dialog", (dialog) => void dialog.accept());
  await submitAsAdmin(adminPage, async () => {
    await adminPage.getByLabel("Temporary password").fill(PASSWORD);
    await adminPage.getByLabel("Why reset it").fill("ticket 18: identity checked by a video call");
    await adminPage.getByRole("button", { name: "Set temporary password" }).click();
  }, adminPage.getByRole("status").filter({ hasText: "Temporary password set" }));
  await expect(adminPage.getByTestId("password-status")).toContainText("Temporary password The user must replace it at the next sign-in.");
  await admin.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  await submitSignIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/sign-in\/new-password\?callbackUrl=%2Faccount$/);
  await expect(page.getByTestId("password-change-reason")).toHaveText(/A new password is required for this account/);

  // The password alone does not reach the app: every page sends the browser back here.
  await page.goto("/account/security");
  await expect(page).toHaveURL(/\/sign-in\/new-password\?callbackUrl=%2Faccount%2Fsecurity$/);

  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("Repeat new password").fill(`${NEW_PASSWORD} typo`);
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByText("The two new passwords differ.")).toBeVisible();

  await page.getByLabel("New password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Repeat new password").fill(PASSWORD);
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByText("Choose a password different from your current one.")).toBeVisible();

  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page).toHaveURL(/\/account\/security$/);
  await expectSignedInAs(page, email);
  expect(sql(`SELECT password_reset_required_at IS NULL FROM users WHERE email = '${email}'`)).toBe("t");
  expect(sql(`SELECT count(*) FROM audit_events WHERE action = 'password.reset_completed' AND outcome = 'success' AND actor_label = '${email}'`)).toBe("1");

  await signOut(page);
  await submitSignIn(page, email, PASSWORD);
  await expect(page.getByTestId("form-message")).toHaveText(GENERIC);
  await signIn(page, email, NEW_PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  await expectSignedInAs(page, email);
  await context.close();
});
