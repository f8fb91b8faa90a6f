import { expect, test } from "@playwright/test";
import { ADMIN, ADMIN_STATE, enrollTotp, expectSignedInAs, plantSetupToken, saveAdminTotpSecret, submitAsAdmin } from "./support/helpers";

// The newcomer's first minute: the server has no admin, so it offers a one-time setup link.
test("the first admin gets in through the one-time setup link", async ({ page }) => {
  await page.goto("/setup?token=forged");
  await expect(page.getByRole("heading", { name: "Setup link not valid" })).toBeVisible();

  const token = plantSetupToken();
  await page.goto(`/setup?token=${token}`);
  await page.getByLabel("Your name").fill(ADMIN.name);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("New password", { exact: true }).fill("short");
  await page.getByLabel("Repeat new password").fill("short");
  await page.getByRole("button", { name: "Create admin account" }).click();
  await expect(page.getByText("Use at least 12 characters.")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue(ADMIN.email); // nothing typed is lost
  // A typo in the only admin's password is caught before the link is spent.
  await page.getByLabel("New password", { exact: true }).fill(ADMIN.password);
  await page.getByLabel("Repeat new password").fill(`${ADMIN.password}x`);
  await page.getByRole("button", { name: "Create admin account" }).click();
  await expect(page.getByText("The two new passwords differ.")).toBeVisible();

  await page.getByLabel("New password", { exact: true }).fill(ADMIN.password);
  await page.getByLabel("Repeat new password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create admin account" }).click();

  // Admins must have a second factor: the first sign-in goes through enrollment first.
  await expect(page).toHaveURL(/\/sign-in\/enroll/);
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/sign-in\/enroll\?callbackUrl=%2Fadmin$/);
  const { secret } = await enrollTotp(page);
  saveAdminTotpSecret(secret);
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expectSignedInAs(page, ADMIN.email);
  await page.context().storageState({ path: ADMIN_STATE });

  // Every journey's browser connects from loopback: to the risk engine that is one address failing
  // passwords for dozens of accounts. Like an office network, it goes on the allow list; the risk
  // journeys play clients elsewhere through X-Forwarded-For.
  await page.goto("/admin/risk/ip-rules");
  // Allow-listing needs a fresh second factor (enrolling one is not verifying with it).
  for (const address of ["127.0.0.1", "::1"]) {
    await submitAsAdmin(page, async () => {
      await page.getByLabel("IP address or range").fill(address);
      await page.getByLabel("List").selectOption("allow");
      await page.getByLabel("Reason").fill("the end-to-end test runner");
      await page.getByRole("button", { name: "Add rule" }).click();
    }, page.getByRole("status").filter({ hasText: `${address}/${address.includes(":") ? 128 : 32} is now on the allow list.` }));
  }

  // The link worked once.
  await page.goto(`/setup?token=${token}`);
  await expect(page.getByRole("heading", { name: "Setup link not valid" })).toBeVisible();
});
