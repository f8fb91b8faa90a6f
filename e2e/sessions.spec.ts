import { expect, test } from "@playwright/test";
import { createUserViaConsole, expectSignedInAs, signIn, submitSignIn, uniqueEmail } from "./support/helpers";

const PASSWORD = "session passphrase e2e";

test("a user signs out another of their sessions, which is then signed out", async ({ browser }) => {
  const email = uniqueEmail("sessions");
  const { admin } = await createUserViaConsole(browser, { email, password: PASSWORD });
  await admin.close();

  const laptop = await (await browser.newContext()).newPage();
  const phone = await (await browser.newContext()).newPage();
  await signIn(laptop, email, PASSWORD);
  await signIn(phone, email, PASSWORD);
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
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Disable account" }).click();
  await expect(page.getByText("Disabled", { exact: true })).toBeVisible();

  await user.goto("/account");
  await expect(user).toHaveURL(/\/sign-in/);
  await submitSignIn(user, email, PASSWORD);
  await expect(user.getByTestId("form-message")).toHaveText("That email and password do not match an active account.");
  await admin.close();
});
