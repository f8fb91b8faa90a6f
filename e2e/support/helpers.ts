import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Browser, type BrowserContext, type Locator, type Page } from "@playwright/test";
import { generateSync } from "otplib";
import { startSmtpSink } from "../../tests/support/smtp";
import { SMTP_PORT } from "../../playwright.config";

export const ADMIN = { email: "admin@example.test", name: "Ada Admin", password: "admin passphrase for e2e" };
export const ADMIN_STATE = "test-results/.auth/admin.json";
const ADMIN_TOTP_FILE = "test-results/.auth/admin-totp.txt";
// The last TOTP step used for the admin, shared by every worker process: the server accepts each
// step once and refuses every earlier one after it.
const ADMIN_TOTP_STEP_FILE = "test-results/.auth/admin-totp-step.txt";

/**
 * Runs `body` with a mail server listening where the e2e servers send mail (GATEHOUSE_SMTP_URL):
 * the built-in playbooks mail the admins last, and a run whose mail did not go out ends failed.
 * One at a time (tests that read mail start their own on the same port).
 */
export async function withMailServer<T>(body: (mails: string[]) => Promise<T>): Promise<T> {
  const smtp = await startSmtpSink(SMTP_PORT);
  try {
    return await body(smtp.mails);
  } finally {
    await smtp.close();
  }
}

/** Saves the first admin's TOTP secret, just enrolled with the current step's code. */
export function saveAdminTotpSecret(secret: string) {
  mkdirSync(path.dirname(ADMIN_TOTP_FILE), { recursive: true });
  writeFileSync(ADMIN_TOTP_FILE, secret);
  writeFileSync(ADMIN_TOTP_STEP_FILE, String(Math.floor(Date.now() / 30_000)));
}
export const adminTotpSecret = () => readFileSync(ADMIN_TOTP_FILE, "utf8");

/** The TOTP code for the current 30-second step plus `steps` (the server accepts one either side). */
export function totpCode(secret: string, steps = 0): string {
  return generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });
}

/** The admin's next unused TOTP code (current or next step); waits for the next step when both are spent. */
async function nextAdminCode(): Promise<string> {
  const lastUsed = Number(existsSync(ADMIN_TOTP_STEP_FILE) ? readFileSync(ADMIN_TOTP_STEP_FILE, "utf8") : "0");
  const stepNow = () => Math.floor(Date.now() / 30_000);
  if (stepNow() + 1 <= lastUsed) {
    const wait = lastUsed * 30_000 - Date.now() + 500;
    test.info().setTimeout(test.info().timeout + wait);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const step = Math.max(stepNow(), lastUsed + 1);
  writeFileSync(ADMIN_TOTP_STEP_FILE, String(step));
  return generateSync({ secret: adminTotpSecret(), epoch: step * 30 });
}

/** On a console page that answered "Confirm it is you": verifies with the admin's TOTP and comes back. */
export async function stepUpAsAdmin(page: Page) {
  await page.getByRole("link", { name: "Verify now" }).click();
  await expect(page).toHaveURL(/\/account\/confirm\?/);
  await page.getByLabel("Authentication code").fill(await nextAdminCode());
  await page.getByRole("button", { name: "Verify" }).click();
  await page.waitForURL((url) => url.pathname !== "/account/confirm");
}

/**
 * Fills and sends an admin form with `submit` until `done` shows: actions that give access need a
 * fresh second factor, so the first answer may be a step-up request (the form is filled again after).
 */
export async function submitAsAdmin(page: Page, submit: () => Promise<void>, done: Locator) {
  await submit();
  const stepUp = page.getByTestId("form-message").filter({ hasText: "Confirm it is you" });
  await expect(done.or(stepUp)).toBeVisible();
  if (await done.isVisible()) return;
  await stepUpAsAdmin(page);
  await submit();
  await expect(done).toBeVisible();
}

/** Sets up an authenticator app on /account/security or /sign-in/enroll; returns its secret and the backup codes shown. */
export async function enrollTotp(page: Page): Promise<{ secret: string; backupCodes: string[] }> {
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  await page.getByLabel("Code from the app").fill(totpCode(secret));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByRole("status")).toHaveText("Authenticator app set up.");
  const backupCodes = await page.getByTestId("backup-codes").getByRole("listitem").allTextContents();
  expect(backupCodes).toHaveLength(10);
  await page.getByRole("button", { name: "I have saved them" }).click();
  return { secret, backupCodes };
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
}

export function databaseUrl(): string {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  return `${adminUrl.slice(0, adminUrl.lastIndexOf("/"))}/${process.env.E2E_DATABASE}`;
}

export function sql(statement: string): string {
  return execFileSync("psql", [databaseUrl(), "-At", "-v", "ON_ERROR_STOP=1", "-c", statement], { encoding: "utf8" }).trim();
}

/** What the server prints at first start, made here: a setup token whose hash is in the database. */
export function plantSetupToken(): string {
  const token = randomBytes(32).toString("base64url");
  const hash = createHash("sha256").update(token).digest("hex");
  sql(`INSERT INTO setup_tokens (token_hash, expires_at) VALUES ('${hash}', now() + interval '1 hour')`);
  return token;
}

/** Fills and submits the sign-in form; the caller asserts what the form answers. */
export async function submitSignIn(page: Page, email: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Signs in and waits until the browser has left the sign-in page, so the session cookie is set. */
export async function signIn(page: Page, email: string, password: string) {
  await submitSignIn(page, email, password);
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
}

export async function expectSignedInAs(page: Page, email: string) {
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
}

export const uniqueEmail = (prefix: string) => `${prefix}-${randomBytes(3).toString("hex")}@example.test`;

/** An admin creates an account through the console, as a person would. */
export async function createUserViaConsole(browser: Browser, user: { email: string; password: string; name?: string; roles?: string[] }) {
  const admin = await browser.newContext({ storageState: ADMIN_STATE });
  const page = await admin.newPage();
  await page.goto("/admin/users");
  await submitAsAdmin(page, async () => {
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Name").fill(user.name ?? "Test Person");
    await page.getByLabel("Initial password").fill(user.password);
    // The test signs in as this user with this password.
    await page.getByLabel("Ask for a new password at first sign-in").uncheck();
    for (const role of user.roles ?? []) await page.getByRole("checkbox", { name: new RegExp(`^${role}`) }).check();
    await page.getByRole("button", { name: "Create user" }).click();
  }, page.getByRole("status").filter({ hasText: `Created ${user.email}.` }));
  return { admin, page };
}

/** A platform passkey authenticator (Chromium's virtual one) for `page`; `presence` turns its automatic answers on and off. */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page, answering = true) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: answering },
  });
  return { presence: (enabled: boolean) => cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled }) };
}

export type CreatedClient = { clientId: string; clientSecret: string };

/** An admin creates an OAuth client on /admin/clients; returns its id and the secret shown once. */
export async function createClientViaConsole(browser: Browser, form: { name: string; grants: string[]; redirectUris?: string; scopes: string; resources?: string; dpop?: boolean; mtls?: boolean }): Promise<CreatedClient> {
  const admin = await browser.newContext({ storageState: ADMIN_STATE });
  const page = await admin.newPage();
  await page.goto("/admin/clients");
  await submitAsAdmin(page, async () => {
    await page.getByLabel("Name").fill(form.name);
    for (const grant of ["authorization_code", "refresh_token", "client_credentials"]) {
      const box = page.locator(`input[name=grantTypes][value=${grant}]`);
      if (form.grants.includes(grant)) await box.check();
      else await box.uncheck();
    }
    await page.getByLabel("Redirect URIs", { exact: true }).fill(form.redirectUris ?? "");
    await page.getByLabel("Allowed scopes").fill(form.scopes);
    await page.getByLabel("Resources (APIs)").fill(form.resources ?? "");
    if (form.dpop) await page.getByLabel("Require DPoP").check();
    if (form.mtls) await page.getByLabel(/Bind tokens to the client certificate/).check();
    await page.getByRole("button", { name: "Create client" }).click();
  }, page.getByTestId("client-credentials"));
  const created = { clientId: (await page.getByTestId("client-id").textContent())!, clientSecret: (await page.getByTestId("client-secret").textContent())! };
  await admin.close();
  return created;
}

/**
 * A new admin, signed in with a fresh second factor, so sensitive actions need no step-up. Enrolling
 * does not count as verifying: the admin confirms with the new factor's next code.
 */
export async function signInAsNewAdmin(browser: Browser, prefix: string) {
  const email = uniqueEmail(prefix);
  const password = "new admin passphrase for e2e";
  const { admin } = await createUserViaConsole(browser, { email, password, name: "Nia Admin", roles: ["admin"] });
  await admin.close();
  const context = await browser.newContext();
  const page = await context.newPage();
  await submitSignIn(page, email, password);
  await expect(page).toHaveURL(/\/sign-in\/enroll/);
  const { secret, backupCodes } = await enrollTotp(page);
  await page.goto("/account/confirm?callbackUrl=%2Fadmin");
  await page.getByLabel("Authentication code").fill(totpCode(secret, 1));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  return { context, page, email, backupCodes };
}
