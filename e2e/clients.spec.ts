import { expect, test, type APIRequestContext } from "@playwright/test";
import { ADMIN_STATE, createClientViaConsole, submitAsAdmin } from "./support/helpers";

// An admin looks after an OAuth client once it exists: changes its redirect URIs, gives it a new
// secret (shown once) and deletes it. What the provider accepts after each step is checked at its
// endpoints, which either instance behind the proxy may answer.

const OLD_REDIRECT_URI = "https://app.example.test/cb";
const NEW_REDIRECT_URI = "https://app.example.test/new-cb";

/** An authorization request to `redirectUri`: 303 on to the login page, or 400 when refused. */
function authorizeStatus(request: APIRequestContext, clientId: string, redirectUri: string): Promise<number> {
  const params = new URLSearchParams({
    client_id: clientId, redirect_uri: redirectUri, response_type: "code", scope: "openid",
    code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256",
  });
  return request.get(`/oidc/auth?${params}`, { maxRedirects: 0 }).then((r) => r.status());
}

/** Whether the client authenticates with `secret` (introspection answers any authenticated client: 200, else 401). */
function authenticates(request: APIRequestContext, clientId: string, secret: string): Promise<number> {
  const authorization = `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`;
  return request.post("/oidc/token/introspection", { headers: { authorization }, form: { token: "not-a-token" } }).then((r) => r.status());
}

test("an admin edits a client's redirect URIs, rotates its secret and sees it once, then deletes the client", async ({ browser, request }) => {
  const created = await createClientViaConsole(browser, { name: "Editable app", grants: ["authorization_code"], redirectUris: OLD_REDIRECT_URI, scopes: "openid" });
  const context = await browser.newContext({ storageState: ADMIN_STATE });
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const page = await context.newPage();
  page.on("dialog", (dialog) => void dialog.accept());

  await page.goto("/admin/clients");
  await page.getByRole("link", { name: "Manage Editable app" }).click();
  await expect(page.getByRole("heading", { name: "Editable app" })).toBeVisible();
  await expect(page.getByTestId("client-id")).toHaveText(created.clientId);
  await page.getByRole("button", { name: "Copy client id" }).click();
  await expect(page.getByRole("button", { name: "Copy client id" })).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(created.clientId);

  // The create form's rules: a plain-http redirect URI is refused, and what was typed stays.
  const saveRedirectUri = (uri: string) => async () => {
    await page.getByLabel("Redirect URIs", { exact: true }).fill(uri);
    await page.getByRole("button", { name: "Save changes" }).click();
  };
  await submitAsAdmin(page, saveRedirectUri("http://app.example.test/cb"), page.getByText("http://app.example.test/cb must use https"));
  await expect(page.getByLabel("Redirect URIs", { exact: true })).toHaveValue("http://app.example.test/cb");
  await saveRedirectUri(NEW_REDIRECT_URI)();
  await expect(page.getByTestId("form-message").filter({ hasText: "Saved Editable app" })).toBeVisible();
  await expect(async () => {
    expect(await authorizeStatus(request, created.clientId, OLD_REDIRECT_URI)).toBe(400);
    expect(await authorizeStatus(request, created.clientId, NEW_REDIRECT_URI)).toBe(303);
  }).toPass();

  // A new secret, no overlap: shown once, copied, and the old one stops working.
  await submitAsAdmin(page, () => page.getByRole("button", { name: "Rotate secret" }).click(), page.getByTestId("client-secret"));
  const secret = (await page.getByTestId("client-secret").textContent())!;
  expect(secret).not.toBe(created.clientSecret);
  await page.getByRole("button", { name: "Copy client secret" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await expect(async () => {
    expect(await authenticates(request, created.clientId, secret)).toBe(200);
    expect(await authenticates(request, created.clientId, created.clientSecret)).toBe(401);
  }).toPass();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Editable app" })).toBeVisible();
  await expect(page.getByTestId("client-secret")).toHaveCount(0);
  await expect(page.getByText(secret)).toHaveCount(0);

  // Deleted: gone from the list, and its secret no longer authenticates it.
  await submitAsAdmin(page, () => page.getByRole("button", { name: "Delete client" }).click(), page.getByRole("heading", { name: "OAuth clients" }));
  await expect(page).toHaveURL(/\/admin\/clients$/);
  await expect(page.getByTestId("client-row").filter({ hasText: created.clientId })).toHaveCount(0);
  await expect(async () => expect(await authenticates(request, created.clientId, secret)).toBe(401)).toPass();
  await context.close();
});
