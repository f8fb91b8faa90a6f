import { expect, test, type Page } from "@playwright/test";
import {
  addVirtualAuthenticator, createUserViaConsole, enrollTotp, expectSignedInAs, signIn, signOut, sql, submitAsAdmin, submitSignIn, totpCode, uniqueEmail, ADMIN_STATE,
} from "./support/helpers";

const PASSWORD = "mfa passphrase for e2e";

async function newUser(browser: import("@playwright/test").Browser, prefix: string) {
  const email = uniqueEmail(prefix);
  const { admin } = await createUserViaConsole(browser, { email, password: PASSWORD, name: "Mia Factor" });
  await admin.close();
  return email;
}

async function chooseMethod(page: Page, label: "Authenticator app" | "Passkey" | "Backup code") {
  await page.locator("label", { hasText: label }).first().click();
}

test("a user with no second factor confirms with the password before adding one to an older session", async ({ browser, page }) => {
  const email = await newUser(browser, "reauth");
  await signIn(page, email, PASSWORD);
  // The sign-in was a while ago: whoever holds this session now may not be its owner.
  sql(`UPDATE sessions SET password_verified_at = now() - interval '10 minutes' WHERE user_id = (SELECT id FROM users WHERE email = '${email}')`);
  // (With a query string, which the way back keeps.)
  await page.goto("/account/security?from=mail");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(page.getByTestId("form-message")).toContainText("Confirm it is you");
  await page.getByRole("link", { name: "Verify now" }).click();
  // (The way back names the draft of what was typed there: form-draft.ts.)
  await expect(page).toHaveURL(/\/account\/confirm\?callbackUrl=%2Faccount%2Fsecurity%3Ffrom%3Dmail%23draft%3D[\w-]+$/);
  await page.getByLabel("Password").fill("not my password");
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByText("That is not your password.")).toBeVisible();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/account\/security\?from=mail$/);
  await enrollTotp(page);
  await expect(page.getByTestId("totp-status")).toContainText("On");
});

test("a user turns on TOTP, signs in with it, then with a backup code that works only once", async ({ browser, page }) => {
  const email = await newUser(browser, "totp");
  await signIn(page, email, PASSWORD);
  await page.goto("/account/security");
  const { secret, backupCodes } = await enrollTotp(page);
  await expect(page.getByTestId("totp-status")).toContainText("On");
  await expect(page.getByTestId("backup-codes-remaining")).toHaveText("10 of 10 codes left.");

  await signOut(page);
  await submitSignIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/sign-in\/verify/);
  // Someone holds a copy of the cookie as it was before the MFA step (stolen, or planted in this
  // browser by whoever knew the password): the step passed here must not sign the copy in.
  const copy = await browser.newContext();
  await copy.addCookies(await page.context().cookies());
  await page.getByLabel("Authentication code").fill("000000");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("form-message")).toHaveText(/That code is not valid/);
  await page.getByLabel("Authentication code").fill(totpCode(secret, 1));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expectSignedInAs(page, email);
  const copyPage = await copy.newPage();
  await copyPage.goto("/account");
  await expect(copyPage).toHaveURL(/\/sign-in\?callbackUrl=%2Faccount$/);
  await copy.close();
  await page.reload();
  await expectSignedInAs(page, email);

  await signOut(page);
  await submitSignIn(page, email, PASSWORD);
  await chooseMethod(page, "Backup code");
  await page.getByRole("textbox", { name: "Backup code" }).fill(backupCodes[0]!);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await page.goto("/account/security");
  await expect(page.getByTestId("backup-codes-remaining")).toHaveText("9 of 10 codes left.");
  // A new set replaces the old one; once saved, the codes leave the screen.
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Generate new codes" }).click();
  const freshCodes = page.getByTestId("backup-codes").getByRole("listitem");
  await expect(freshCodes).toHaveCount(10);
  expect(await freshCodes.allTextContents()).not.toContain(backupCodes[1]);
  await page.getByRole("button", { name: "I have saved them" }).click();
  await expect(page.getByTestId("backup-codes")).toHaveCount(0);
  await expect(page.getByTestId("backup-codes-remaining")).toHaveText("10 of 10 codes left.");

  await signOut(page);
  await submitSignIn(page, email, PASSWORD);
  await chooseMethod(page, "Backup code");
  await page.getByRole("textbox", { name: "Backup code" }).fill(backupCodes[0]!);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("form-message")).toHaveText("That backup code is not valid or has been used.");
  await expect(page).toHaveURL(/\/sign-in\/verify/);
});

test("a remembered device skips the MFA step; removing TOTP asks for step-up and forgets remembered devices; forgetting one brings the step back", async ({ browser, page }) => {
  // Five sign-ins, two enrollments and a step-up: it reached its last check at 30 s on a loaded machine.
  test.setTimeout(60_000);
  const email = await newUser(browser, "trusted");
  await signIn(page, email, PASSWORD);
  await page.goto("/account/security");
  const { secret, backupCodes } = await enrollTotp(page);
  await signOut(page);

  await submitSignIn(page, email, PASSWORD);
  await page.getByLabel("Remember this device for 30 days").check();
  await page.getByLabel("Authentication code").fill(totpCode(secret, 1));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await signOut(page);

  await signIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/); // no MFA step on this device
  await page.goto("/account/security");
  await expect(page.getByTestId("device-row").filter({ hasText: "Remembered until" })).toHaveCount(1);

  // This session skipped the MFA step, so a sensitive change asks for a fresh verification.
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByTestId("totp-status").getByRole("button", { name: "Remove" }).click();
  await expect(page.getByTestId("form-message")).toContainText("Confirm it is you");
  await page.getByRole("link", { name: "Verify now" }).click();
  await expect(page).toHaveURL(/\/account\/confirm\?callbackUrl=%2Faccount%2Fsecurity/);
  await chooseMethod(page, "Backup code");
  await page.getByRole("textbox", { name: "Backup code" }).fill(backupCodes[3]!);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/account\/security$/);
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByTestId("totp-status").getByRole("button", { name: "Remove" }).click();
  await expect(page.getByRole("button", { name: "Set up an authenticator app" })).toBeVisible();
  // The factor may have been in someone else's hands: the devices remembered after it are forgotten.
  await expect(page.getByTestId("device-row").filter({ hasText: "Remembered until" })).toHaveCount(0);

  // Set up again and remember this device once more; then forget it: the next sign-in is challenged.
  const again = await enrollTotp(page);
  await signOut(page);
  await submitSignIn(page, email, PASSWORD);
  await page.getByLabel("Remember this device for 30 days").check();
  await page.getByLabel("Authentication code").fill(totpCode(again.secret, 1));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await page.goto("/account/security");
  await page.getByTestId("device-row").filter({ hasText: "Remembered until" }).getByRole("button", { name: "Forget" }).click();
  await expect(page.getByTestId("device-row").filter({ hasText: "Remembered until" })).toHaveCount(0);
  await signOut(page);
  await submitSignIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/sign-in\/verify/);
});

test("a user registers a passkey and renames it; it signs in from autofill and satisfies the MFA step", async ({ browser }) => {
  const email = await newUser(browser, "passkey");
  const context = await browser.newContext();
  const page = await context.newPage();
  const { presence } = await addVirtualAuthenticator(context, page);

  await signIn(page, email, PASSWORD);
  await page.goto("/account/security");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByTestId("form-message")).toHaveText("Give the passkey a name first.");
  await page.getByLabel("Passkey name").fill("Test laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByRole("status")).toHaveText("Passkey “Test laptop” added.");
  await expect(page.getByTestId("backup-codes").getByRole("listitem")).toHaveCount(10);
  await page.getByRole("button", { name: "I have saved them" }).click();
  await expect(page.getByTestId("backup-codes")).toHaveCount(0);
  const row = page.getByTestId("passkey-row");
  await expect(row).toContainText("Test laptop");

  for (const name of ["Laptop", "Work laptop"]) {
    await row.getByRole("button", { name: "Rename" }).click();
    await row.getByLabel("New name").fill(name);
    await row.getByRole("button", { name: "Save" }).click();
    await expect(row.getByLabel("New name")).toHaveCount(0);
    await expect(row).toContainText(name);
  }

  // Passwordless through autofill (conditional mediation): the virtual authenticator answers the
  // sign-in page's pending request the way a user picking the passkey from the email field would.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/sign-in/);
  await expect(page).toHaveURL(/\/account$/);
  await expectSignedInAs(page, email);

  // With the authenticator not answering, the password goes first, then the passkey is the MFA step.
  await presence(false);
  await signOut(page);
  await submitSignIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/sign-in\/verify/);
  await presence(true);
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await page.goto("/account/security");
  await expect(page.getByTestId("passkey-row")).toContainText(/last used/);
  await context.close();
});

test("an admin sees a user's factors and resets them with a reason", async ({ browser, page }) => {
  const email = await newUser(browser, "reset");
  await signIn(page, email, PASSWORD);
  await page.goto("/account/security");
  await enrollTotp(page);

  const admin = await browser.newContext({ storageState: ADMIN_STATE });
  const adminPage = await admin.newPage();
  await adminPage.goto("/admin/users");
  await adminPage.getByRole("link", { name: email }).click();
  await expect(adminPage.getByTestId("user-factors")).toContainText("Authenticator app: on since");
  await expect(adminPage.getByTestId("user-factors")).toContainText("Backup codes left: 10");

  const reset = async () => {
    adminPage.once("dialog", (dialog) => dialog.accept());
    await adminPage.getByRole("button", { name: "Reset MFA" }).click();
  };
  // A reason is required; then step-up, unless this admin session verified a factor in the last few minutes.
  await adminPage.getByLabel("Reason").fill("short");
  await reset();
  await expect(adminPage.getByText("Say why, in at least 10 characters")).toBeVisible();
  await submitAsAdmin(adminPage, async () => {
    await adminPage.getByLabel("Reason").fill("Lost phone; identity checked by video call, ticket 4711");
    await reset();
  }, adminPage.getByTestId("user-factors").filter({ hasText: "Authenticator app: not set up" }));
  await admin.close();

  await signOut(page);
  await signIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/); // no factor left, and the user role does not require one
});

test("setting up an authenticator app starts from a click the page's script has not caught yet (here: no script at all)", async ({ browser, page }) => {
  const email = await newUser(browser, "noscript");
  await signIn(page, email, PASSWORD);
  const noScript = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const plain = await noScript.newPage();
  await plain.goto("/account/security");
  await plain.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(plain.getByTestId("totp-secret")).toHaveText(/^[A-Z2-7]{16,}$/);
  await noScript.close();
});
