import { expect, test } from "@playwright/test";
import { createClientViaConsole, createUserViaConsole, signIn, signInAsNewAdmin, sql, uniqueEmail } from "./support/helpers";

const PASSWORD = "policy passphrase for e2e";

test("publishing a policy changes who can open a console page, and rolling back undoes it", async ({ browser }) => {
  // Three sign-ins, an edit, a simulation, a publish and a rollback: a long journey.
  test.setTimeout(90_000);
  const analystEmail = uniqueEmail("analyst");
  const { admin } = await createUserViaConsole(browser, { email: analystEmail, password: PASSWORD, name: "Ana Lyst", roles: ["analyst"] });
  await admin.close();
  const analystContext = await browser.newContext();
  const analyst = await analystContext.newPage();
  await signIn(analyst, analystEmail, PASSWORD);
  expect((await analyst.goto("/admin/audit"))?.status()).toBe(403);

  const { context, page } = await signInAsNewAdmin(browser, "policyadmin");
  await page.goto("/admin/policies");
  // Other journeys may have published before (the built-in roles again, last).
  await expect(page.getByRole("heading", { name: /^In force: version \d+/ })).toBeVisible();
  const editor = page.getByLabel("Policies (Cedar)");
  const original = await editor.inputValue();
  await expect(page.getByTestId("validation-status")).toHaveText("✓ Valid against the schema");

  // A typo is caught against the schema, with its line, before anything is published.
  await editor.fill(`${original}\n@id("typo")\npermit (principal, action, resource) when { context.riskk > 1 };\n`);
  await expect(page.getByTestId("policy-problems")).toContainText(/Line \d+:\d+ \[typo\] .*riskk/);
  await expect(page.getByTestId("policy-problems")).toContainText("did you mean `risk`?");
  // Nested deeper than Cedar's stack: a clear error, and Cedar goes on working (it used to break until a restart).
  await editor.fill(`${original}\n@id("deep")\npermit (principal, action, resource) when { ${"[".repeat(200)}${"]".repeat(200)} == [] };\n`);
  await expect(page.getByTestId("policy-problems")).toContainText("it nests too deeply");

  const notFromJapan = `@id("audit-not-from-japan")\nforbid (principal, action, resource == Gatehouse::Console::"audit") when { context.country == "JP" };\n`;
  await editor.fill(`${original}\n@id("analysts-view-audit")\npermit (\n  principal in Gatehouse::Role::"analyst",\n  action == Gatehouse::Action::"view",\n  resource == Gatehouse::Console::"audit"\n);\n${notFromJapan}`);
  await expect(page.getByTestId("validation-status")).toHaveText("✓ Valid against the schema");

  // The simulator answers from the editor's text before it is published.
  await page.getByLabel("Principal", { exact: true }).fill(analystEmail);
  await page.getByLabel("Action").selectOption("view");
  await page.getByLabel("Resource", { exact: true }).fill("audit");
  await page.getByRole("button", { name: "Simulate" }).click();
  await expect(page.getByTestId("simulation-result")).toContainText("Allow");
  await expect(page.getByTestId("simulation-result")).toContainText("analysts-view-audit");
  // From an address in Japan (its country looked up), or said to be there.
  await page.getByLabel("Client IP").fill("133.242.0.1");
  await page.getByRole("button", { name: "Simulate" }).click();
  await expect(page.getByTestId("simulation-result")).toContainText("Deny");
  await expect(page.getByTestId("simulation-result")).toContainText("audit-not-from-japan · from JP");
  await page.getByLabel("Client IP").fill("198.51.100.10");
  await page.getByLabel("Country", { exact: true }).fill("jp");
  await page.getByRole("button", { name: "Simulate" }).click();
  await expect(page.getByTestId("simulation-result")).toContainText("audit-not-from-japan · from JP");

  await page.getByLabel("What changes, and why").fill("analysts may read the audit trail");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("status")).toHaveText(/Published as version \d+/);

  // In force on every instance within a second (the suite may run behind a proxy over two).
  const auditStatus = async () => (await analyst.goto("/admin/audit"))?.status();
  await expect.poll(auditStatus, { timeout: 2_000 }).toBe(200);
  await expect(analyst.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Audit" })).toBeVisible();
  // The same analyst through a network in Japan (the proxy in front says where from): refused.
  await analyst.setExtraHTTPHeaders({ "x-forwarded-for": "133.242.0.1" });
  expect(await auditStatus()).toBe(403);
  await analyst.setExtraHTTPHeaders({});

  await page.reload();
  await expect(page.getByTestId("policy-history").getByRole("listitem").first()).toContainText("analysts may read the audit trail");
  // The rollback is a new version: wait for it, not for the heading that was already there.
  const before = Number(/version (\d+)$/.exec((await page.getByRole("heading", { name: /In force: version \d+$/ }).textContent()) ?? "")?.[1]);
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Restore the built-in roles (version 0)" }).click();
  await expect(page.getByRole("heading", { name: `In force: version ${before + 1}` })).toBeVisible();
  await expect.poll(auditStatus, { timeout: 2_000 }).toBe(403);
  await analystContext.close();
  await context.close();
});

test("the lockout guard refuses a publish that would shut every admin out of the editor", async ({ browser }) => {
  const { context, page } = await signInAsNewAdmin(browser, "policyadmin");
  await page.goto("/admin/policies");
  const editor = page.getByLabel("Policies (Cedar)");
  await editor.fill(`${await editor.inputValue()}\n@id("nobody")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies");\n`);
  await expect(page.getByTestId("validation-status")).toHaveText("✓ Valid against the schema");
  await page.getByLabel("What changes, and why").fill("lock everyone out");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByTestId("form-message").last()).toContainText("no admin could manage the policies");
  await page.reload();
  await expect(page.getByRole("heading", { name: /In force: version \d+/ })).toBeVisible();
  expect((await page.goto("/admin/policies"))?.status()).toBe(200);
  await context.close();
});

test("other services ask the decision point with a pdp-scoped token; without one they are refused", async ({ browser, request, baseURL }) => {
  const resource = `${baseURL}/api/v1/authorize`;
  const service = await createClientViaConsole(browser, { name: "Reports service", grants: ["client_credentials"], scopes: "pdp", resources: resource });
  const other = await createClientViaConsole(browser, { name: "No pdp scope", grants: ["client_credentials"], scopes: "reports:read", resources: resource });
  const tokenFor = async (client: { clientId: string; clientSecret: string }, scope: string) => {
    const response = await request.post("/oidc/token", {
      headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}` },
      form: { grant_type: "client_credentials", scope, resource },
    });
    expect(response.status()).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const ask = (token: string | null, data: unknown) =>
    request.post("/api/v1/authorize", { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json" }, data: data as object });

  const question = {
    principal: { type: "Gatehouse::User", id: "u-42" },
    action: "access",
    resource: { type: "Gatehouse::Resource", id: "report-7" },
    entities: [{ uid: { type: "Gatehouse::User", id: "u-42" }, attrs: { email: "u42@example.test" }, parents: [{ type: "Gatehouse::Role", id: "analyst" }] }],
  };
  const missing = await ask(null, question);
  expect(missing.status()).toBe(401);
  expect(missing.headers()["www-authenticate"]).toContain("Bearer");
  expect((await ask("not.a.jwt", question)).status()).toBe(401);
  const noScope = await ask(await tokenFor(other, "reports:read"), question);
  expect(noScope.status()).toBe(403);
  expect(await noScope.json()).toMatchObject({ error: "insufficient_scope" });

  const token = await tokenFor(service, "pdp");
  // The built-in policies say nothing about other services' resources: deny by default.
  const single = await ask(token, question);
  expect(single.status()).toBe(200);
  expect(await single.json()).toMatchObject({ decision: "deny", policies: [], errors: [] });
  const batch = await ask(token, { requests: [question, { ...question, action: "issueToken", resource: { type: "Gatehouse::Client", id: service.clientId } }] });
  expect((await batch.json()) as { results: { decision: string; policies: string[] }[] }).toMatchObject({
    results: [{ decision: "deny" }, { decision: "allow", policies: ["users-get-tokens"] }],
  });

  const deep = JSON.stringify({ ...question, entities: [{ uid: question.principal, attrs: { a: "NEST" } }] }).replace('"NEST"', `${"[".repeat(3000)}${"]".repeat(3000)}`);
  for (const [data, status] of [["{not json", 400], [{ principal: "x" }, 400], [{ requests: [] }, 400], [{ ...question, extra: 1 }, 400], [deep, 400]] as const) {
    const response = await request.post("/api/v1/authorize", { headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, data: typeof data === "string" ? data : JSON.stringify(data) });
    expect(response.status(), JSON.stringify(data)).toBe(status);
    expect(await response.json()).toMatchObject({ error: "invalid_request" });
  }
  const huge = await request.post("/api/v1/authorize", { headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, data: JSON.stringify({ pad: "x".repeat(300_000) }) });
  expect(huge.status()).toBe(413);
  // JSON, said so: a media type that merely begins like it is not.
  for (const [type, status] of [["application/jsonx", 415], ["text/plain", 415], ["Application/JSON; charset=utf-8", 200]] as const) {
    const response = await request.post("/api/v1/authorize", { headers: { authorization: `Bearer ${token}`, "content-type": type }, data: JSON.stringify(question) });
    expect(response.status(), type).toBe(status);
  }
});

test("what was typed in the editor survives the trip to confirm it is you", async ({ browser }) => {
  const { context, page, email, backupCodes } = await signInAsNewAdmin(browser, "policyadmin");
  // The second factor was verified a while ago: publishing asks for it again.
  sql(`UPDATE sessions SET mfa_verified_at = now() - interval '10 minutes' WHERE user_id = (SELECT id FROM users WHERE email = '${email}')`);
  await page.goto("/admin/policies");
  const editor = page.getByLabel("Policies (Cedar)");
  // A rule that changes nobody's access (other journeys run meanwhile).
  const edited = `${await editor.inputValue()}\n@id("no-one-called-nobody")\nforbid (principal == Gatehouse::User::"nobody", action, resource);\n`;
  await editor.fill(edited);
  await page.getByLabel("What changes, and why").fill("keep out an account that does not exist");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByTestId("form-message").last()).toContainText("Confirm it is you");
  await page.getByRole("link", { name: "Verify now" }).click();
  await expect(page).toHaveURL(/\/account\/confirm\?/);
  await page.locator("label", { hasText: "Backup code" }).first().click();
  await page.getByRole("textbox", { name: "Backup code" }).fill(backupCodes[0]!);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/admin\/policies$/);
  // Back with the edit and the comment as they were left.
  await expect(editor).toHaveValue(edited);
  await expect(page.getByLabel("What changes, and why")).toHaveValue("keep out an account that does not exist");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("status")).toHaveText(/Published as version \d+/);
  await context.close();
});

test("a page the policies open only after a fresh second factor asks for it, and opens after it", async ({ browser }) => {
  test.setTimeout(60_000);
  const { context, page, email, backupCodes } = await signInAsNewAdmin(browser, "freshadmin");
  await page.goto("/admin/policies");
  const editor = page.getByLabel("Policies (Cedar)");
  // Only this admin (other journeys run meanwhile): the audit trail, with a second factor from the last five minutes.
  await editor.fill(`${await editor.inputValue()}\n@id("fresh-factor-for-the-trail")\nforbid (principal is Gatehouse::User, action == Gatehouse::Action::"view", resource == Gatehouse::Console::"audit")\nwhen { principal.email == "${email}" && !context.mfaFresh };\n`);
  await expect(page.getByTestId("validation-status")).toHaveText("✓ Valid against the schema");
  await page.getByLabel("What changes, and why").fill("the trail needs a fresh factor");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("status")).toHaveText(/Published as version \d+/);

  // The second factor was verified a while ago: the page sends them to confirm, then back.
  sql(`UPDATE sessions SET mfa_verified_at = now() - interval '10 minutes' WHERE user_id = (SELECT id FROM users WHERE email = '${email}')`);
  await expect.poll(async () => { await page.goto("/admin/audit?type=admin"); return new URL(page.url()).pathname; }, { timeout: 5_000 }).toBe("/account/confirm");
  expect(new URL(page.url()).searchParams.get("callbackUrl")).toBe("/admin/audit?type=admin");
  await page.locator("label", { hasText: "Backup code" }).first().click();
  await page.getByRole("textbox", { name: "Backup code" }).fill(backupCodes[0]!);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/admin\/audit\?type=admin$/);
  await expect(page.getByRole("search", { name: "Audit events" })).toBeVisible();

  await page.goto("/admin/policies");
  const published = Number(/version (\d+)$/.exec((await page.getByRole("heading", { name: /In force: version \d+$/ }).textContent()) ?? "")?.[1]);
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Restore the built-in roles (version 0)" }).click();
  await expect(page.getByRole("heading", { name: `In force: version ${published + 1}` })).toBeVisible();
  await context.close();
});

test("another service registers its own types; policies name them and the decision point decides on them", async ({ browser, request, baseURL }) => {
  test.setTimeout(90_000);
  const resource = `${baseURL}/api/v1/authorize`;
  const service = await createClientViaConsole(browser, { name: "Docs service", grants: ["client_credentials"], scopes: "pdp pdp.schema", resources: resource });
  const tokenResponse = await request.post("/oidc/token", {
    headers: { authorization: `Basic ${Buffer.from(`${service.clientId}:${service.clientSecret}`).toString("base64")}` },
    form: { grant_type: "client_credentials", scope: "pdp pdp.schema", resource },
  });
  const auth = { authorization: `Bearer ${((await tokenResponse.json()) as { access_token: string }).access_token}` };
  // Its own namespace (a rerun against the same database registers another).
  const ns = `Docs${Date.now().toString(36)}`;
  const schemaUrl = `/api/v1/policy-schemas/${ns}`;
  const put = (text: string) => request.put(schemaUrl, { headers: { ...auth, "content-type": "text/plain" }, data: text });

  const broken = await put(`namespace ${ns} {\n  entity Document = { owner: Gatehouse::Person };\n}`);
  expect(broken.status()).toBe(400);
  expect(await broken.json()).toMatchObject({ error: "invalid", errors: [{ line: 2, message: expect.stringContaining("Gatehouse::Person") }] });
  const registered = await put(`namespace ${ns} {\n  entity Document;\n  action read appliesTo { principal: [Gatehouse::User], resource: [Document], context: Gatehouse::RequestContext };\n}`);
  expect(registered.status()).toBe(201);

  // The admin sees it, writes a policy naming it, and the simulator answers with it before the publish.
  const { context, page, email } = await signInAsNewAdmin(browser, "schemaadmin");
  await page.goto("/admin/policies");
  await expect(page.getByTestId("service-schemas")).toContainText(`registered by client ${service.clientId}`);
  await expect(page.getByTestId("service-schemas")).toContainText(`${ns}::Action::"read"`);
  const editor = page.getByLabel("Policies (Cedar)");
  const original = await editor.inputValue();
  await editor.fill(`${original}\n@id("admins-read-${ns}")\npermit (principal in Gatehouse::Role::"admin", action == ${ns}::Action::"read", resource is ${ns}::Document);\n`);
  await expect(page.getByTestId("validation-status")).toHaveText("✓ Valid against the schema");
  await page.getByLabel("Principal", { exact: true }).fill(email);
  await page.getByLabel("Action").selectOption(`${ns}::Action::"read"`);
  await page.getByLabel("Resource type").selectOption(`${ns}::Document`);
  await page.getByLabel("Resource", { exact: true }).fill("d-1");
  await page.getByRole("button", { name: "Simulate" }).click();
  await expect(page.getByTestId("simulation-result")).toContainText("Allow");
  await expect(page.getByTestId("simulation-result")).toContainText(`admins-read-${ns}`);
  await page.getByLabel("What changes, and why").fill("admins read the service's documents");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("status")).toHaveText(/Published as version \d+/);
  const published = Number(/version (\d+)/.exec((await page.getByRole("status").textContent()) ?? "")?.[1]);

  // The service asks about its own types.
  const question = {
    principal: { type: "Gatehouse::User", id: "u-7" }, action: { type: `${ns}::Action`, id: "read" }, resource: { type: `${ns}::Document`, id: "d-1" },
    entities: [{ uid: { type: "Gatehouse::User", id: "u-7" }, attrs: { email: "u7@example.test" }, parents: [{ type: "Gatehouse::Role", id: "admin" }] }],
  };
  const decided = await request.post("/api/v1/authorize", { headers: { ...auth, "content-type": "application/json" }, data: question });
  expect(await decided.json()).toMatchObject({ decision: "allow", policies: [`admins-read-${ns}`] });

  // Taking the types away while a policy in force names them is refused, naming it.
  const refused = await request.delete(schemaUrl, { headers: auth });
  expect(refused.status()).toBe(409);
  expect(await refused.json()).toMatchObject({ error: "breaks_policies", error_description: expect.stringContaining(`admins-read-${ns}`) });

  // The other instance may still show the version before for up to GATEHOUSE_POLICY_REFRESH_MS: a
  // rollback from a page that old is refused as stale, so the page is opened once it shows the publish.
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole("heading", { name: `In force: version ${published}` })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Restore the built-in roles (version 0)" }).click();
  await expect(page.getByRole("heading", { name: `In force: version ${published + 1}` })).toBeVisible();
  // An admin may remove any service's types, from the console.
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: `Remove ${ns}` }).click();
  await expect(page.getByTestId("service-schemas")).not.toContainText(ns);
  expect((await request.get(schemaUrl, { headers: auth })).status()).toBe(404);

  // An admin registers one on the console: a mistake is shown on its line, nothing is stored until it validates.
  const own = `${ns}Console`;
  await page.getByText("Register a service's types").click();
  await page.getByLabel("Namespace").fill(own);
  await page.getByLabel("Schema (Cedar)").fill(`namespace ${own} {\n  entity Report = { owner: Gatehouse::Nobody };\n}`);
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByTestId("schema-problems")).toContainText("line 2");
  await page.getByLabel("Schema (Cedar)").fill(`namespace ${own} {\n  entity Report = { owner: Gatehouse::User };\n}`);
  await page.getByRole("button", { name: "Register" }).click();
  await expect(page.getByTestId("service-schemas")).toContainText(`${own}::Report`);
  await expect(page.getByTestId("service-schemas")).toContainText("from the console");
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: `Remove ${own}` }).click();
  await expect(page.getByTestId("service-schemas")).not.toContainText(own);
  await context.close();
});
