import { expect, test } from "@playwright/test";
import { ADMIN, createUserViaConsole, expectSignedInAs, signIn, submitSignIn, uniqueEmail } from "./support/helpers";

const GENERIC = "That email and password do not match an active account.";

test("a wrong password and an unknown account get the same generic message", async ({ page }) => {
  await submitSignIn(page, ADMIN.email, "wrong password here");
  await expect(page.getByTestId("form-message")).toHaveText(GENERIC);
  // The page's own heading is its top-level one (screen readers jump by it).
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue(ADMIN.email);
  await expect(page.getByLabel("Password")).toHaveValue("");

  await submitSignIn(page, uniqueEmail("nobody"), "wrong password here");
  await expect(page.getByTestId("form-message")).toHaveText(GENERIC);
});

test("an empty form asks for each field instead of answering for an account", async ({ page }) => {
  await submitSignIn(page, "", "");
  await expect(page.getByLabel("Email")).toHaveAccessibleDescription("Enter your email.");
  await expect(page.getByLabel("Password")).toHaveAccessibleDescription("Enter your password.");
  await expect(page.getByTestId("form-message")).not.toHaveText(GENERIC);
});

test("repeated failures lock the account name and the form says when to retry", async ({ page }) => {
  const email = uniqueEmail("target");
  for (let i = 0; i < 5; i++) {
    await submitSignIn(page, email, `guess number ${i}`);
    await expect(page.getByTestId("form-message")).toHaveText(GENERIC);
  }
  await submitSignIn(page, email, "guess number 6");
  await expect(page.getByTestId("form-message")).toHaveText(/Too many sign-in attempts\. Try again in 15 minutes\./);
});

test("the HTTP sign-in endpoint answers a locked account name with 429 and Retry-After", async ({ request }) => {
  const email = uniqueEmail("api");
  const csrf = async () => ((await (await request.get("/api/auth/csrf")).json()) as { csrfToken: string }).csrfToken;
  for (let i = 0; i < 5; i++) {
    const response = await request.post("/api/auth/callback/credentials", {
      form: { email, password: `guess ${i}`, csrfToken: await csrf() },
      maxRedirects: 0,
    });
    expect(response.status()).toBe(302);
  }
  const locked = await request.post("/api/auth/callback/credentials", { form: { email, password: "guess", csrfToken: await csrf() }, maxRedirects: 0 });
  expect(locked.status()).toBe(429);
  expect(Number(locked.headers()["retry-after"])).toBeGreaterThan(800);
});

test("signing out ends the session: the old cookie no longer works", async ({ browser }) => {
  const email = uniqueEmail("leaver");
  const { admin } = await createUserViaConsole(browser, { email, password: "leaver passphrase e2e" });
  await admin.close();
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email, "leaver passphrase e2e");
  await expectSignedInAs(page, email);
  const cookies = await context.cookies();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);

  // Replaying the cookie captured before sign-out is refused: the server-side row has ended.
  const replay = await browser.newContext();
  await replay.addCookies(cookies);
  const replayPage = await replay.newPage();
  await replayPage.goto("/account");
  await expect(replayPage).toHaveURL(/\/sign-in/);
  await context.close();
  await replay.close();
});
