import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { verifyExport, type ExportManifest } from "../lib/audit/manifest";
import { createUserViaConsole, signIn, submitSignIn, uniqueEmail } from "./support/helpers";

const PASSWORD = "auditor passphrase e2e";

test("an auditor searches the trail, checks an event, verifies the chain and exports with a signed manifest", async ({ browser, page }) => {
  const email = uniqueEmail("auditor");
  const { admin } = await createUserViaConsole(browser, { email, password: PASSWORD, roles: ["auditor"] });
  await admin.close();
  await submitSignIn(page, "nobody-at-all@example.test", "a wrong password"); // leaves a failed sign-in to find
  await expect(page.getByTestId("form-message")).toBeVisible();
  await signIn(page, email, PASSWORD);

  await page.goto("/admin/audit");
  await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible();
  await page.getByLabel("Action").fill("auth.sign_in");
  await page.getByLabel("Outcome").selectOption("failure");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/action=auth.sign_in/);
  const rows = page.getByTestId("audit-row");
  await expect(rows.first()).toBeVisible();
  await expect(rows.filter({ hasText: "success" })).toHaveCount(0);
  await expect(rows.filter({ hasText: "nobody-at-all@example.test" })).toHaveCount(1);

  await rows.filter({ hasText: "nobody-at-all@example.test" }).getByRole("link").click();
  await expect(page.getByText("recomputes correctly")).toBeVisible();
  // Linked both ways (or, if it is the newest event, to the previous one).
  await expect(page.getByText("links correctly").first()).toBeVisible();
  await expect(page.getByText(/^broken/)).toHaveCount(0);
  // The IP, decrypted for the auditor (IPv4 or IPv6 loopback, whichever the browser used).
  await expect(page.getByText(/^(127\.0\.0\.1|::1)$/)).toBeVisible();

  await page.goto("/admin/audit?outcome=failure");
  await page.getByRole("button", { name: "Verify chain" }).click();
  await expect(page.getByRole("status")).toContainText("Chain verified");

  const [csv] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
  const file = readFileSync((await csv.path())!);
  expect(file.toString()).toContain("nobody-at-all@example.test");

  await page.reload();
  const [manifestDownload] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-row").first().getByRole("link", { name: "Manifest" }).click()]);
  const manifest = JSON.parse(readFileSync((await manifestDownload.path())!, "utf8")) as ExportManifest;
  expect(manifest.filters).toEqual({ outcome: "failure" });
  const [keyDownload] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download the public signing key" }).click()]);
  const publicKey = readFileSync((await keyDownload.path())!, "utf8");

  expect(verifyExport(file, manifest, publicKey)).toEqual({ ok: true, problems: [] });
  const tampered = Buffer.from(file.toString().replace("nobody-at-all", "nobody-at-alm"));
  expect(verifyExport(tampered, manifest, publicKey).ok).toBe(false);
});

test("the export API refuses the signed-out and users without an audit role", async ({ browser, request }) => {
  expect((await request.get("/api/v1/audit/export?format=csv")).status()).toBe(401);
  const email = uniqueEmail("plain");
  const { admin } = await createUserViaConsole(browser, { email, password: PASSWORD });
  await admin.close();
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/account$/);
  for (const url of ["/api/v1/audit/export?format=csv", "/api/v1/audit/exports/00000000-0000-0000-0000-000000000000/manifest"]) {
    const response = await page.request.get(url);
    expect(response.status(), url).toBe(403);
    expect(await response.json()).toMatchObject({ error: "forbidden" });
  }
  await context.close();
});

test("malformed export requests get a 400, not a 500", async ({ browser }) => {
  const context = await browser.newContext({ storageState: "test-results/.auth/admin.json" });
  for (const query of ["format=xml", "format=csv&outcome=maybe", "format=csv&from=not-a-date", `format=csv&q=${"x".repeat(300)}`]) {
    const response = await context.request.get(`/api/v1/audit/export?${query}`);
    expect(response.status(), query).toBe(400);
  }
  expect((await context.request.get("/api/v1/audit/exports/not-a-uuid/manifest")).status()).toBe(400);
  expect((await context.request.get("/api/v1/audit/exports/00000000-0000-0000-0000-000000000000/manifest")).status()).toBe(404);
  // Another site cannot make a signed-in auditor's browser start an export (its cookie rides along on a navigation).
  const crossSite = await context.request.get("/api/v1/audit/export?format=csv", { headers: { "sec-fetch-site": "cross-site" } });
  expect(crossSite.status()).toBe(403);
  expect((await context.request.get("/api/v1/audit/export?format=csv", { headers: { "sec-fetch-site": "same-origin" } })).status()).toBe(200);
  await context.close();
});
