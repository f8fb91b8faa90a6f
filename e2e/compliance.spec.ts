import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { createUserViaConsole, signIn, signInAsNewAdmin, sql, uniqueEmail } from "./support/helpers";

const PASSWORD = "compliance passphrase e2e";

const controlRow = (page: Page, id: string) => page.getByTestId("control-row").filter({ has: page.getByRole("link", { name: id, exact: true }) });

async function runTests(page: Page) {
  await page.goto("/admin/compliance");
  await page.getByRole("button", { name: "Run tests now" }).click();
  await expect(page.getByRole("status")).toContainText(/tests ran: \d+ passed, \d+ failed/);
}

test("a failing control gets an exception from two admins; an auditor sees it, downloads the report and verifies it", async ({ browser, page }) => {
  // Four people sign in (argon2 each) and the control tests run twice: 26–32 s on a 2-vCPU machine.
  test.setTimeout(90_000);
  // An analyst without a passkey makes CC6.1 fail.
  const analystEmail = uniqueEmail("analyst");
  const { admin } = await createUserViaConsole(browser, { email: analystEmail, password: PASSWORD, roles: ["analyst"] });
  await admin.close();
  const auditorEmail = uniqueEmail("auditor");
  await (await createUserViaConsole(browser, { email: auditorEmail, password: PASSWORD, roles: ["auditor"] })).admin.close();

  await signIn(page, auditorEmail, PASSWORD);
  await runTests(page);
  await expect(controlRow(page, "CC6.1")).toContainText("Fail");
  // Other journeys' analysts may lack a passkey too.
  await expect(controlRow(page, "CC6.1")).toContainText(/\d+ analysts? without a passkey/);
  // The server's own log file was scanned, and nothing secret is in it.
  await expect(controlRow(page, "CC6.7")).toContainText("log lines scanned: no credential or token found.");
  await expect(page.getByTestId("compliance-trend-chart")).toBeVisible();

  // The auditor reads the evidence, and may not request exceptions.
  await controlRow(page, "CC6.1").getByRole("link", { name: "CC6.1" }).click();
  await expect(page.getByRole("heading", { name: /CC6\.1/ })).toBeVisible();
  // Who fails is named (an auditor may not open the user's page, so it is not a link), and the raw evidence is kept.
  const passkeyTest = page.getByTestId("check-row").filter({ hasText: "Every active analyst has a passkey" });
  await expect(passkeyTest.getByTestId("findings")).toContainText(analystEmail);
  await expect(passkeyTest.getByRole("link", { name: analystEmail })).toHaveCount(0);
  const latest = page.getByTestId("history-row").filter({ hasText: "Every active analyst has a passkey" }).first();
  await expect(latest).toContainText("analysts_phishing_resistant");
  await latest.getByText(/^sha256 /).click();
  await expect(latest.getByText('"withoutPasskey"')).toBeVisible();
  await page.goto("/admin/compliance/exceptions");
  await expect(page.getByText("The access policies let you see exceptions, not request or approve them.")).toBeVisible();

  // One admin requests an exception; it does not count until a second one approves.
  const requester = await signInAsNewAdmin(browser, "requester");
  await requester.page.goto("/admin/compliance/exceptions?control=CC6.1");
  await requester.page.getByLabel("Justification").fill("The new analyst receives a security key on Monday.");
  await requester.page.getByLabel("Expires on").fill(new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10));
  await requester.page.getByRole("button", { name: "Request exception" }).click();
  await expect(requester.page.getByRole("status")).toContainText("Another admin must approve it");
  const requestRow = requester.page.getByTestId("exception-row").filter({ hasText: "The new analyst receives a security key" });
  await expect(requestRow).toContainText("Awaiting approval");
  await requestRow.getByRole("button", { name: "Approve" }).click();
  await expect(requestRow.getByRole("alert")).toHaveText("Someone other than the requester must approve an exception.");
  await requester.context.close();

  const approver = await signInAsNewAdmin(browser, "approver");
  await approver.page.goto("/admin/compliance/exceptions");
  const pending = approver.page.getByTestId("exception-row").filter({ hasText: "The new analyst receives a security key" });
  // The approver sees what approving excepts: what the control's failing tests name now.
  await expect(pending.getByTestId("would-except")).toContainText("Approving it now excepts: ");
  await expect(pending.getByTestId("would-except")).toContainText("Every active analyst has a passkey (phishing-resistant) (only ");
  await pending.getByRole("button", { name: "Approve" }).click();
  await expect(pending).toContainText("In force");
  await expect(pending).toContainText(`approved by ${approver.email}`);
  // It excepts what the failing test named at approval, no more.
  await expect(pending.getByTestId("excepted-tests")).toContainText("Every active analyst has a passkey (phishing-resistant) (only ");
  await approver.context.close();

  await page.goto("/admin/compliance");
  await expect(controlRow(page, "CC6.1")).toContainText("Excepted");
  await expect(controlRow(page, "CC6.1")).toContainText("The new analyst receives a security key on Monday.");
  await page.goto("/admin/compliance/CC6.1");
  await expect(passkeyTest.getByTestId("findings")).toContainText(`${analystEmail}(excepted)`);
  await expect(passkeyTest.getByTestId("findings")).not.toContainText("not covered by the exception");
  await page.goto("/admin/compliance");

  // The report for the last 90 days: HTML and JSON, each verifiable against the audit trail.
  await page.getByRole("link", { name: "Auditor's report" }).click();
  const [html] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download HTML" }).click()]);
  expect(html.suggestedFilename()).toMatch(/^gatehouse-soc2-report-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.html$/);
  const htmlPath = (await html.path())!;
  const report = readFileSync(htmlPath, "utf8");
  expect(report).toContain("SOC 2 control report");
  expect(report).toContain("The new analyst receives a security key on Monday.");
  const [json] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download JSON" }).click()]);
  const jsonFile = readFileSync((await json.path())!);
  const data = JSON.parse(jsonFile.toString("utf8")) as { controls: { id: string; statusAtEnd: string }[]; digest: string };
  // A report file larger than the 10 MB Next.js cuts the bodies it copies at (here the JSON with
  // 11 MB of spaces after it) is read whole, up to the upload limit.
  const large = await page.request.post("/api/v1/compliance/report/verify", { data: Buffer.concat([jsonFile, Buffer.alloc(11 * 1024 * 1024, 32)]), headers: { "content-type": "application/json" } });
  expect(await large.json()).toMatchObject({ ok: true, problems: [] });
  expect(data.controls.find((c) => c.id === "CC6.1")?.statusAtEnd).toBe("excepted");

  await page.getByLabel("Report file (.html or .json)").setInputFiles(htmlPath);
  await page.getByRole("button", { name: "Verify against the audit trail" }).click();
  await expect(page.getByTestId("report-verdict")).toContainText("The report verifies");

  // The user access review: every account, the analyst without a passkey among them; the download is audited with the file's hash.
  const [review] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  expect(review.suggestedFilename()).toMatch(/^gatehouse-access-review-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync((await review.path())!);
  expect(csv.toString("utf8").split("\n")[0]).toBe("email,name,roles,groups,status,created_at,last_sign_in_at,second_factors,passkeys,password_changed_at,password_state,active_sessions");
  const sha256 = createHash("sha256").update(csv).digest("hex");
  expect(sql(`SELECT count(*) FROM audit_events WHERE action = 'compliance.access_review' AND resource_id = '${sha256}'`)).toBe("1");

  // A report edited after download does not.
  await page.getByLabel("Report file (.html or .json)").setInputFiles({ name: "edited.html", mimeType: "text/html", buffer: Buffer.from(report.replace('"statusAtEnd":"excepted"', '"statusAtEnd":"pass"')) });
  await page.getByRole("button", { name: "Verify against the audit trail" }).click();
  await expect(page.getByTestId("report-verdict")).toContainText("it was changed after it was generated");
});

test("the report API refuses the signed-out, other roles and malformed periods", async ({ browser, request }) => {
  expect((await request.get("/api/v1/compliance/report?from=2026-01-01&to=2026-01-31&format=json")).status()).toBe(401);
  expect((await request.post("/api/v1/compliance/report/verify", { data: "{}" })).status()).toBe(401);
  expect((await request.get("/api/v1/compliance/access-review")).status()).toBe(401);

  const email = uniqueEmail("plain");
  await (await createUserViaConsole(browser, { email, password: PASSWORD })).admin.close();
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email, PASSWORD);
  expect((await page.request.get("/api/v1/compliance/report?from=2026-01-01&to=2026-01-31&format=json")).status()).toBe(403);
  expect((await page.request.get("/api/v1/compliance/access-review")).status()).toBe(403);
  expect((await page.goto("/admin/compliance"))?.status()).toBe(403);
  await context.close();

  const admin = await browser.newContext({ storageState: "test-results/.auth/admin.json" });
  for (const query of ["format=json", "from=2026-01-01&to=2026-01-31&format=pdf", "from=2026-02-01&to=2026-01-01&format=html", "from=2020-01-01&to=2026-01-01&format=json", "from=yesterday&to=today&format=json"]) {
    const response = await admin.request.get(`/api/v1/compliance/report?${query}`);
    expect(response.status(), query).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_request" });
  }
  const garbage = await admin.request.post("/api/v1/compliance/report/verify", { data: "not a report at all" });
  expect(garbage.status()).toBe(200);
  expect(await garbage.json()).toMatchObject({ ok: false, problems: ["This is not a Gatehouse compliance report (JSON, version 1)."] });
  const oversized = await admin.request.post("/api/v1/compliance/report/verify", { data: Buffer.alloc(21 * 1024 * 1024, 97) });
  expect(oversized.status()).toBe(413);
  await admin.close();
});
