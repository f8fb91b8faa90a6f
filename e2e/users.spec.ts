import { expect, test } from "@playwright/test";
import { ADMIN_SECTIONS } from "../lib/auth/roles";
import { ADMIN_STATE, createUserViaConsole, expectSignedInAs, signIn, submitAsAdmin, submitSignIn, uniqueEmail } from "./support/helpers";

const PASSWORD = "user passphrase for e2e";
const OWN_PASSWORD = "the newcomer's own passphrase";

test.describe("an admin creates a user who then signs in", () => {
  const email = uniqueEmail("newcomer");

  test("admin creates the user, with errors shown by the field", async ({ browser }) => {
    const admin = await browser.newContext({ storageState: ADMIN_STATE });
    const page = await admin.newPage();
    await page.goto("/admin/users");
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByLabel("Name").fill("New Comer");
    await page.getByLabel("Initial password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create user" }).click();
    await expect(page.getByText("Enter a valid email address.")).toBeVisible();
    await expect(page.getByLabel("Name")).toHaveValue("New Comer");

    // Creating an account gives access: the admin confirms with a second factor (then fills the form again).
    await submitAsAdmin(page, async () => {
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Name").fill("New Comer");
      await page.getByLabel("Initial password").fill(PASSWORD);
      await page.getByRole("button", { name: "Create user" }).click();
    }, page.getByRole("status").filter({ hasText: `Created ${email}. They choose their own password at first sign-in.` }));
    await expect(page.getByTestId("user-row").filter({ hasText: email })).toBeVisible();

    await page.getByLabel("Search users").fill(email.slice(0, 12));
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page.getByTestId("user-row")).toHaveCount(1);
    // The new account has no second factor yet: the list says so, and the filters find it by that.
    await expect(page.getByTestId("user-row")).toContainText("None");
    await page.getByRole("combobox", { name: "Second factor" }).selectOption("with");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page.getByText("No users match.")).toBeVisible();
    await page.getByRole("combobox", { name: "Second factor" }).selectOption("without");
    await page.getByRole("combobox", { name: "Status" }).selectOption("active");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/secondFactor=without/);
    await expect(page.getByTestId("user-row").filter({ hasText: email })).toBeVisible();
    await admin.close();
  });

  test("the user signs in, replaces the password the admin chose, sees /account and is refused every admin page", async ({ page }) => {
    await submitSignIn(page, email, PASSWORD);
    await expect(page).toHaveURL(/\/sign-in\/new-password/);
    await page.getByLabel("New password", { exact: true }).fill(OWN_PASSWORD);
    await page.getByLabel("Repeat new password").fill(OWN_PASSWORD);
    await page.getByRole("button", { name: "Set new password" }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expectSignedInAs(page, email);
    await expect(page.getByTestId("account-email")).toHaveText(email);
    await expect(page.getByRole("link", { name: "Console" })).toHaveCount(0);

    for (const href of ["/admin", ...ADMIN_SECTIONS.map((s) => s.href), "/admin/groups"]) {
      const response = await page.goto(href);
      expect(response?.status(), href).toBe(403);
      await expect(page.getByRole("heading", { name: "You do not have access to this page" })).toBeVisible();
    }
  });
});

test("signed-out visitors are sent to sign in from every protected page, and come back after", async ({ page }) => {
  for (const href of ["/account", "/account/security", "/admin", ...ADMIN_SECTIONS.map((s) => s.href), "/admin/groups"]) {
    await page.goto(href);
    await expect(page, href).toHaveURL(new RegExp(`/sign-in\\?callbackUrl=${encodeURIComponent(href)}$`));
  }
});

test("an auditor reaches audit and compliance only", async ({ browser, page }) => {
  const email = uniqueEmail("auditor");
  const { admin } = await createUserViaConsole(browser, { email, password: PASSWORD, name: "Audrey Auditor", roles: ["auditor"] });
  await admin.close();

  await signIn(page, email, PASSWORD);
  await page.goto("/admin");
  const nav = page.getByRole("navigation", { name: "Console" });
  await expect(nav.getByRole("link")).toHaveText(["Overview", "Audit", "Compliance"]);
  for (const section of ADMIN_SECTIONS) {
    const response = await page.goto(section.href);
    // The built-in policies let auditors view audit and compliance, nothing else.
    expect(response?.status(), section.href).toBe(["audit", "compliance"].includes(section.id) ? 200 : 403);
  }
});

test("an admin corrects a user's sign-in email, then deletes the account of a leaver", async ({ browser, page }) => {
  const email = uniqueEmail("typo");
  const { admin, page: console } = await createUserViaConsole(browser, { email, password: PASSWORD, name: "Tia Typo" });
  await console.getByTestId("user-row").filter({ hasText: email }).getByRole("link").first().click();
  await expect(console.getByRole("heading", { name: "Tia Typo" })).toBeVisible();
  const fixed = uniqueEmail("fixed");
  await submitAsAdmin(console, async () => {
    await console.getByLabel("Sign-in email").fill(fixed);
    await console.getByLabel("Why the email changes").fill("ticket 17: a typo at creation");
    await console.getByRole("button", { name: "Change email" }).click();
  }, console.getByRole("status").filter({ hasText: `The account now signs in as ${fixed}.` }));
  await signIn(page, fixed, PASSWORD);
  await expectSignedInAs(page, fixed);

  // Deleting needs a fresh second factor too, which the admin's last one may no longer be.
  await submitAsAdmin(console, async () => {
    await console.getByLabel("Type the account's email to confirm").fill(email);
    await console.getByLabel("Why delete it").fill("Leaver, ticket HR-1042");
    await console.getByRole("button", { name: "Delete account" }).click();
  }, console.getByText(`Type ${fixed} to confirm.`));
  await submitAsAdmin(console, async () => {
    await console.getByLabel("Type the account's email to confirm").fill(fixed);
    await console.getByLabel("Why delete it").fill("Leaver, ticket HR-1042");
    await console.getByRole("button", { name: "Delete account" }).click();
  }, console.getByRole("heading", { name: "Users", exact: true }));
  await expect(console.getByTestId("user-row").filter({ hasText: fixed })).toHaveCount(0);
  // Its session went with it.
  await page.goto("/account");
  await expect(page).toHaveURL(/\/sign-in/);
  await admin.close();
});
