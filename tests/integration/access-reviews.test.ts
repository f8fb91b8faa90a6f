import { createHash } from "node:crypto";
import { parse } from "csv-parse/sync";
import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { userContext } from "@/lib/audit/context";
import { deleteUser, listActiveAdmins, setDisabled, setRoles } from "@/lib/auth/users";
import { DEFAULT_POLICIES, publishPolicies } from "@/lib/policy";
import {
  accessDecisionSchema, accessReviewDetail, completeAccessReview, decideAccess, downloadAccessReview, keepSignInOnlyAccounts, listAccessReviews, runControlTests, startAccessReview,
} from "@/lib/compliance";
import { resetDatabase } from "../support/db";
import { ctx, makeUser } from "../support/factories";

// One connection, as on the embedded database (the quick start): a query made outside a
// transaction while the transaction holds the only connection would wait until it times out.
process.env.DATABASE_POOL_MAX = "1";

beforeEach(resetDatabase);

const DAY = 86_400_000;
const as = (user: { id: string; email: string }) => userContext(user, { ip: "198.51.100.7", userAgent: "vitest" });
const decision = (reviewId: string, userId: string, value: string, note = "") => accessDecisionSchema.parse({ reviewId, userId, decision: value, note });

/** Two admins (one reviews, one is reviewed), an analyst in a group, and a plain user. */
async function company() {
  const reviewer = await makeUser({ roles: ["admin"] });
  const otherAdmin = await makeUser({ roles: ["admin"] });
  const analyst = await makeUser({ roles: ["analyst"] });
  await db().group.create({ data: { id: "secops", name: "Security operations" } });
  await db().groupMember.create({ data: { groupId: "secops", userId: analyst.id } });
  const plain = await makeUser();
  return { reviewer, otherAdmin, analyst, plain };
}

async function started(by: { id: string; email: string }) {
  const result = await startAccessReview(as(by));
  if (!result.ok || !result.id) throw new Error(`review not started: ${JSON.stringify(result)}`);
  return result.id;
}

const auditActions = async (action: string) => db().auditEvent.findMany({ where: { action }, orderBy: { seq: "asc" } });

describe("a user access review", () => {
  it("takes every account as it stands when it begins, and only one review is open at a time", async () => {
    const { reviewer, analyst } = await company();
    const [first, second] = await Promise.all([startAccessReview(as(reviewer)), startAccessReview(as(reviewer))]);
    expect([first.ok, second.ok].sort()).toEqual([false, true]);
    expect([first, second].find((r) => !r.ok)).toMatchObject({ error: expect.stringContaining("already open") });

    const [review] = await listAccessReviews();
    expect(review).toMatchObject({ open: true, accounts: 4, undecided: 4, startedBy: reviewer.email });
    const detail = (await accessReviewDetail(review!.id, "all"))!;
    expect(detail.items.find((i) => i.userId === analyst.id)).toMatchObject({ roles: ["user", "analyst"], groups: ["secops"], disabled: false, decision: null, exists: true });

    // Access granted after the review began is not in it: it is the next review's.
    await setRoles(analyst.id, ["user", "analyst", "auditor"], ctx, null);
    expect((await accessReviewDetail(review!.id, "all"))!.items.find((i) => i.userId === analyst.id)!.roles).toEqual(["user", "analyst"]);
    expect(await auditActions("compliance.access_review.start")).toHaveLength(1);
  });

  it("nobody decides on their own access; a removal needs a reason and something to remove", async () => {
    const { reviewer, plain, analyst } = await company();
    const id = await started(reviewer);
    expect(await decideAccess(decision(id, reviewer.id, "keep"), as(reviewer))).toEqual({ ok: false, error: "Someone else must review your own access." });
    expect(accessDecisionSchema.safeParse({ reviewId: id, userId: analyst.id, decision: "reduce", note: "" }).success).toBe(false);
    expect(accessDecisionSchema.safeParse({ reviewId: id, userId: analyst.id, decision: "promote", note: "" }).success).toBe(false);
    expect(await decideAccess(decision(id, plain.id, "reduce", "left the team"), as(reviewer))).toMatchObject({ ok: false, error: expect.stringContaining("no role or group to remove") });
    expect(await decideAccess(decision(id, analyst.id, "reduce", "moved to sales"), as(reviewer))).toMatchObject({ ok: true });

    const item = (await accessReviewDetail(id, "decided"))!.items;
    expect(item).toEqual([expect.objectContaining({ userId: analyst.id, decision: "reduce", note: "moved to sales", decidedBy: reviewer.email, toCarryOut: true })]);
    const [event] = await auditActions("compliance.access_review.decide");
    expect(event).toMatchObject({ actorId: reviewer.id, outcome: "success", resourceId: id });
  });

  it("keeps every account that holds sign-in access only in one go, never the reviewer's own", async () => {
    const { reviewer, plain, analyst, otherAdmin } = await company();
    const secondPlain = await makeUser();
    const id = await started(plain); // a plain user's own account stays undecided for them
    expect(await keepSignInOnlyAccounts(id, as(plain))).toMatchObject({ ok: true, message: "1 account with sign-in access only kept." });
    const undecided = (await accessReviewDetail(id, "undecided"))!.items.map((i) => i.userId).sort();
    expect(undecided).toEqual([reviewer.id, otherAdmin.id, analyst.id, plain.id].sort());
    expect((await accessReviewDetail(id, "decided"))!.items.map((i) => i.userId)).toEqual([secondPlain.id]);
    const [bulk] = await auditActions("compliance.access_review.keep_sign_in_only");
    expect(bulk!.metadata).toEqual({ accounts: 1, userIds: [secondPlain.id], userIdsSha256: createHash("sha256").update(secondPlain.id).digest("hex") });
  });

  it("does not keep in bulk a plain account the policies let manage part of the console by its email", async () => {
    const { reviewer, plain } = await company();
    const desk = await makeUser({ email: `desk-${Date.now()}@helpdesk.example.test` });
    const text = `${DEFAULT_POLICIES}\n@id("helpdesk-domain-manages-users")\npermit (principal, action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"], resource == Gatehouse::Console::"users") when { principal.email like "*@helpdesk.example.test" };\n`;
    const publisher = { userId: reviewer.id, email: reviewer.email, roles: reviewer.roles, groups: [], ip: "198.51.100.1", risk: 0, authStrength: "mfa" as const, mfaFresh: true, deviceTrusted: false };
    expect((await publishPolicies(text, "help desk by domain", publisher, listActiveAdmins, ctx)).ok).toBe(true);
    const id = await started(reviewer);
    expect(await keepSignInOnlyAccounts(id, as(reviewer))).toMatchObject({ ok: true, message: "1 account with sign-in access only kept." });
    expect((await accessReviewDetail(id, "decided"))!.items.map((i) => i.userId)).toEqual([plain.id]);
    expect((await accessReviewDetail(id, "undecided"))!.items.map((i) => i.userId)).toContain(desk.id);
  });

  it("is signed off only when every account is decided and every removal is done on the live account", async () => {
    const { reviewer, otherAdmin, analyst, plain } = await company();
    const leaver = await makeUser();
    const id = await started(reviewer);
    await decideAccess(decision(id, otherAdmin.id, "keep"), as(reviewer));
    await decideAccess(decision(id, analyst.id, "reduce", "moved to sales"), as(reviewer));
    await decideAccess(decision(id, plain.id, "disable", "contract ended"), as(reviewer));
    await decideAccess(decision(id, leaver.id, "disable", "left"), as(reviewer));
    expect(await completeAccessReview(id, as(reviewer))).toEqual({ ok: false, error: "1 account is still undecided." });

    await decideAccess(decision(id, reviewer.id, "keep", "still runs the console"), as(otherAdmin));
    expect(await completeAccessReview(id, as(reviewer))).toMatchObject({ ok: false, error: expect.stringMatching(/^Carry out 3 removals on the user's page first: /) });
    expect((await accessReviewDetail(id, "to_carry_out"))!.items).toHaveLength(3);

    // Disabling is not "remove roles and groups" (enabled again, the account would have them back), nor are roles alone: the group goes too.
    await setDisabled(analyst.id, true, ctx);
    expect((await accessReviewDetail(id, "to_carry_out"))!.items.map((i) => i.email)).toContain(analyst.email);
    await setRoles(analyst.id, ["user"], ctx, null);
    expect((await accessReviewDetail(id, "to_carry_out"))!.items.map((i) => i.email)).toContain(analyst.email);
    await db().groupMember.deleteMany({ where: { userId: analyst.id } });
    await setDisabled(plain.id, true, ctx);
    await deleteUser(leaver.id, ctx, { id: reviewer.id, email: reviewer.email, roles: reviewer.roles, groups: [] });
    expect((await accessReviewDetail(id, "to_carry_out"))!.items).toEqual([]);

    const signed = await completeAccessReview(id, as(otherAdmin));
    expect(signed).toMatchObject({ ok: true, message: expect.stringContaining("5 accounts") });
    const [review] = await listAccessReviews();
    expect(review).toMatchObject({ open: false, completedBy: otherAdmin.email, kept: 2, reduced: 1, disabled: 2, undecided: 0 });

    // The evidence file: its SHA-256 is the one recorded at sign-off, in the review and the audit trail.
    const file = (await downloadAccessReview(id, as(otherAdmin)))!;
    expect(createHash("sha256").update(file.csv).digest("hex")).toBe(review!.digest);
    const [complete] = await auditActions("compliance.access_review.complete");
    expect(complete!.metadata).toMatchObject({ accounts: 5, kept: 2, reduced: 1, disabled: 2, sha256: review!.digest });
    const [download] = await auditActions("compliance.access_review.download");
    expect(download!.metadata).toMatchObject({ signedOff: true, matchesSignOff: true });
    const rows = parse(file.csv, { columns: true }) as Record<string, string>[];
    expect(rows.find((r) => r.email === leaver.email)).toMatchObject({ decision: "disable", note: "left", decided_by: reviewer.email, status_at_start: "active" });

    // Signed off is final.
    expect(await decideAccess(decision(id, otherAdmin.id, "disable", "changed my mind"), as(reviewer))).toEqual({ ok: false, error: "This review is signed off: its decisions are final." });
    expect(await completeAccessReview(id, as(reviewer))).toMatchObject({ ok: false });
    expect(await startAccessReview(as(reviewer))).toMatchObject({ ok: true });
  });
});

describe("the CC6.3 test: a review signed off in the last 90 days", () => {
  const result = async (now = new Date()) => (await runControlTests("manual", ctx, now)).results.find((r) => r.check === "access_review_current")!;

  it("is not due in an installation's first 90 days, then fails until a review is signed off, and fails again 90 days later", async () => {
    const { reviewer, otherAdmin, analyst, plain } = await company();
    expect(await result()).toMatchObject({ status: "pass", summary: expect.stringMatching(/^No review yet: the first is due by /) });
    expect(await result(new Date(Date.now() + 91 * DAY))).toMatchObject({ status: "fail", summary: expect.stringMatching(/^No user access review has been signed off/) });

    const id = await started(reviewer);
    for (const user of [otherAdmin, analyst, plain]) await decideAccess(decision(id, user.id, "keep"), as(reviewer));
    await decideAccess(decision(id, reviewer.id, "keep"), as(otherAdmin));
    expect(await completeAccessReview(id, as(reviewer))).toMatchObject({ ok: true });
    expect(await result()).toMatchObject({ status: "pass", summary: expect.stringContaining(`by ${reviewer.email} (4 accounts)`) });
    expect(await result(new Date(Date.now() + 91 * DAY))).toMatchObject({ status: "fail", summary: expect.stringMatching(/^The last review \(access as of .*\) signed off .*: the next was due by /) });
    // Due from the access a review looked at: one begun 100 days ago and signed off today is already a quarter old.
    await db().accessReview.update({ where: { id }, data: { startedAt: new Date(Date.now() - 100 * DAY) } });
    expect(await result()).toMatchObject({ status: "fail" });
  });
});
