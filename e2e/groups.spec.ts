import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import { createUserViaConsole, signIn, submitAsAdmin, uniqueEmail } from "./support/helpers";

const PASSWORD = "group passphrase for e2e";

test("an admin puts a user in a group that a policy lets into the audit trail; taking them out shuts it again", async ({ browser, page }) => {
  // Two sign-ins, a group, two membership changes, a publish and a restore: a long journey.
  test.setTimeout(90_000);
  const email = uniqueEmail("grouped");
  const { admin, page: console } = await createUserViaConsole(browser, { email, password: PASSWORD, name: "Gus Group" });
  await signIn(page, email, PASSWORD);
  expect((await page.goto("/admin/audit"))?.status()).toBe(403);

  const groupId = `readers-${randomBytes(3).toString("hex")}`;
  await console.goto("/admin/groups");
  await console.getByLabel("Name").fill("Audit readers");
  await console.getByLabel("Id").fill("Not an id!");
  await console.getByRole("button", { name: "Create group" }).click();
  await expect(console.getByText(/lowercase letters, digits/)).toBeVisible();
  await console.getByLabel("Id").fill(groupId);
  await console.getByRole("button", { name: "Create group" }).click();
  await expect(console.getByRole("heading", { name: "Audit readers" })).toBeVisible();
  await expect(console.getByTestId("group-policies")).toContainText("No policy in force names it.");

  const addMember = async () => {
    await console.getByLabel("Account email").fill(email);
    await console.getByLabel("Why they join").fill("ACCESS-7 audit reading for Gus");
    await console.getByRole("button", { name: "Add to group" }).click();
  };
  await submitAsAdmin(console, addMember, console.getByTestId("member-row").filter({ hasText: email }));

  // A policy names the group: its members may read the audit trail.
  await console.goto("/admin/policies");
  const editor = console.getByLabel("Policies (Cedar)");
  await expect(console.getByTestId("validation-status")).toHaveText("✓ Valid against the schema");
  const original = await editor.inputValue();
  await submitAsAdmin(console, async () => {
    await editor.fill(`${original}\n@id("${groupId}-read-audit")\npermit (\n  principal in Gatehouse::Group::"${groupId}",\n  action == Gatehouse::Action::"view",\n  resource == Gatehouse::Console::"audit"\n);\n`);
    await expect(console.getByTestId("validation-status")).toHaveText("✓ Valid against the schema");
    await console.getByLabel("What changes, and why").fill("the audit readers group reads the audit trail");
    await console.getByRole("button", { name: "Publish" }).click();
  }, console.getByRole("status").filter({ hasText: /Published as version \d+/ }));

  const auditStatus = async () => (await page.goto("/admin/audit"))?.status();
  await expect.poll(auditStatus, { timeout: 2_000 }).toBe(200);
  await page.goto("/account");
  await expect(page.getByTestId("account-groups")).toHaveText(groupId);

  // The group's page names the policy; removing the member takes the access back at once.
  await console.goto(`/admin/groups/${groupId}`);
  await expect(console.getByTestId("group-policies")).toContainText(`${groupId}-read-audit`);
  // "Remove …?", then why (for the audit trail); the restore below asks to confirm too.
  console.on("dialog", (dialog) => dialog.accept(dialog.type() === "prompt" ? "ACCESS-8 Gus moved team" : undefined));
  await submitAsAdmin(console, () => console.getByTestId("member-row").filter({ hasText: email }).getByRole("button", { name: "Remove" }).click(), console.getByText("No members yet."));
  expect(await auditStatus()).toBe(403);

  // Leave the built-in roles in force for the other journeys.
  await console.goto("/admin/policies");
  const published = Number(/version (\d+)$/.exec((await console.getByRole("heading", { name: /In force: version \d+$/ }).textContent()) ?? "")?.[1]);
  await submitAsAdmin(console, () => console.getByRole("button", { name: "Restore the built-in roles (version 0)" }).click(), console.getByRole("heading", { name: `In force: version ${published + 1}` }));
  await admin.close();
});
