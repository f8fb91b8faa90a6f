import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { createUserViaConsole, signIn, signInAsNewAdmin, sql, submitAsAdmin, uniqueEmail } from "./support/helpers";

const PASSWORD = "access review passphrase e2e";

/** The review's account list, narrowed to one account. */
const SHOW = { Undecided: "undecided", "To carry out": "to_carry_out", All: "all" } as const;

async function findAccount(page: Page, email: string, show: keyof typeof SHOW = "All") {
  await page.getByRole("navigation", { name: "Show" }).getByRole("link", { name: show, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`[?&]show=${SHOW[show]}`));
  await page.getByLabel("Search accounts").fill(email);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByTestId("review-item")).toHaveCount(1);
  return page.getByTestId("review-item").filter({ hasText: email });
}

test("an access review: decided by two admins, a removal carried out, signed off, its CSV matching the recorded SHA-256; an auditor reads it", async ({ browser }) => {
  // Five accounts made and four people sign in (argon2 each): ~40 s on a 2-vCPU machine.
  test.setTimeout(120_000);
  const leaverEmail = uniqueEmail("leaver");
  await (await createUserViaConsole(browser, { email: leaverEmail, password: PASSWORD, roles: ["analyst"] })).admin.close();
  await (await createUserViaConsole(browser, { email: uniqueEmail("stayer"), password: PASSWORD })).admin.close();
  const auditorEmail = uniqueEmail("reviews-auditor");
  await (await createUserViaConsole(browser, { email: auditorEmail, password: PASSWORD, roles: ["auditor"] })).admin.close();
  const reviewer = await signInAsNewAdmin(browser, "reviewer");
  const second = await signInAsNewAdmin(browser, "second-reviewer");
  const page = reviewer.page;
  page.on("dialog", (dialog) => void dialog.accept());

  await page.goto("/admin/compliance/access-reviews");
  await page.getByRole("button", { name: "Start a review" }).click();
  await expect(page).toHaveURL(/\/admin\/compliance\/access-reviews\/[0-9a-f-]{36}$/);
  const reviewUrl = page.url();
  await page.getByRole("button", { name: "Keep every sign-in-only account" }).click();
  await expect(page.getByRole("status")).toContainText(/^\d+ accounts? with sign-in access only kept\.$/);

  // A removal needs a reason.
  const leaver = await findAccount(page, leaverEmail, "Undecided");
  await expect(leaver).toContainText("analyst");
  await leaver.getByLabel("Decision").selectOption({ label: "Remove roles and groups" });
  await leaver.getByRole("button", { name: "Save" }).click();
  await expect(leaver).toContainText("Say why this access goes");
  await leaver.getByLabel("Why").fill("moved to sales");
  await leaver.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("review-item")).toHaveCount(0);
  const pending = await findAccount(page, leaverEmail, "To carry out");
  await expect(pending).toContainText("Not done yet");
  await expect(pending).toContainText(`“moved to sales” — ${reviewer.email}`);

  // Nobody reviews their own access.
  await expect(await findAccount(page, reviewer.email)).toContainText("Someone else decides on your own account.");
  // Every other journey's accounts were in the snapshot too: decided outside this journey.
  sql(`UPDATE access_review_items SET decision = 'keep', decided_at = now(), decided_by_email = 'e2e' WHERE review_id = '${reviewUrl.split("/").at(-1)}' AND decision IS NULL AND email <> '${reviewer.email}'`);

  await page.getByRole("button", { name: "Sign off" }).click();
  await expect(page.getByTestId("form-message")).toHaveText("1 account is still undecided.");

  await second.page.goto(reviewUrl);
  const reviewerRow = await findAccount(second.page, reviewer.email);
  await reviewerRow.getByLabel("Decision").selectOption({ label: "Keep" });
  await reviewerRow.getByRole("button", { name: "Save" }).click();
  await expect(reviewerRow).toContainText(`— ${second.email}`);
  await second.context.close();

  await page.goto(reviewUrl);
  await page.getByRole("button", { name: "Sign off" }).click();
  await expect(page.getByTestId("form-message")).toHaveText(`Carry out 1 removal on the user's page first: ${leaverEmail}.`);

  // The removal is carried out where roles are changed, with that page's guards.
  await (await findAccount(page, leaverEmail, "To carry out")).getByRole("link", { name: "carry it out on the user's page" }).click();
  // Sent without a reason: refused, and the box stays as it was left (not the stored roles again).
  await page.getByRole("checkbox", { name: /^analyst/ }).uncheck();
  await page.getByRole("button", { name: "Save roles" }).click();
  await expect(page.getByText("Say why: it goes into the audit trail.")).toBeVisible();
  await expect(page.getByRole("checkbox", { name: /^analyst/ })).not.toBeChecked();
  await submitAsAdmin(page, async () => {
    await page.getByRole("checkbox", { name: /^analyst/ }).uncheck();
    await page.getByLabel("Why the roles change").fill("Access review: moved to sales");
    await page.getByRole("button", { name: "Save roles" }).click();
  }, page.getByRole("status").filter({ hasText: "Roles saved." }));
  await page.goto(reviewUrl);
  await page.getByRole("button", { name: "Sign off" }).click();
  await expect(page.getByTestId("review-progress")).toContainText(`Signed off`);
  await page.reload();
  const digest = (await page.getByTestId("review-progress").locator("code").textContent())!;
  expect(digest).toMatch(/^[0-9a-f]{64}$/);
  await expect(page.getByRole("button", { name: "Sign off" })).toHaveCount(0);
  await expect(page.getByLabel("Decision")).toHaveCount(0);
  await reviewer.context.close();

  // The auditor reads the signed-off review and downloads its evidence: the file is the one signed off.
  const auditorContext = await browser.newContext();
  const auditor = await auditorContext.newPage();
  await signIn(auditor, auditorEmail, PASSWORD);
  await auditor.goto("/admin/compliance/access-reviews");
  await expect(auditor.getByText("The access policies let you see reviews, not start them.")).toBeVisible();
  await auditor.getByTestId("review-row").first().getByRole("link").first().click();
  await expect(auditor.getByTestId("review-progress")).toContainText(`SHA-256 of its CSV: ${digest}`);
  const [download] = await Promise.all([auditor.waitForEvent("download"), auditor.getByRole("link", { name: "Download CSV" }).click()]);
  const csv = readFileSync((await download.path())!);
  expect(createHash("sha256").update(csv).digest("hex")).toBe(digest);
  expect(csv.toString()).toContain(`${leaverEmail},Test Person,user analyst,,active,`);
  expect(csv.toString()).toMatch(new RegExp(`${leaverEmail.replace(/[.]/g, "\\.")},.*,reduce,moved to sales,${reviewer.email.replace(/[.]/g, "\\.")},`));
  await auditorContext.close();
});
