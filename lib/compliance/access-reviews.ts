import "server-only";
import { createHash } from "node:crypto";
import { z } from "zod";
import { db, isUniqueViolation, Prisma } from "../db/client";
// lib/auth's index also loads next-auth (Next.js only); the users module is enough here.
import { currentAccess, firstAccountCreatedAt, listAccountsForReview, userEmails } from "../auth/users";
import { ELEVATED_ROLES } from "../auth/roles";
import { mayManageSomeSection, policiesSingleOutAccounts } from "../policy/pdp";
import { factorNames } from "../mfa";
import { actingUserId, audit, type AuditContext } from "../audit/context";
import { csvRows } from "../util/csv";
import { counted } from "../util/format";

// User access reviews (SOC 2 CC6.2, CC6.3), done in Gatehouse rather than in a spreadsheet: a review
// takes every account's access as it stands when it begins; a reviewer decides on each account
// (keep it, remove its roles and groups, or disable it), never on their own; removals are carried
// out on the user's page, with that page's guards; the review is signed off (fresh MFA) once every
// account is decided and every removal is done, and its CSV's SHA-256 is kept with it and in the
// audit trail. One review is open at a time; one is due every 90 days (the CC6.3 test).

export const ACCESS_DECISIONS = ["keep", "reduce", "disable"] as const;
export type AccessDecision = (typeof ACCESS_DECISIONS)[number];
export const ACCESS_DECISION_LABELS: Record<AccessDecision, string> = { keep: "Keep", reduce: "Remove roles and groups", disable: "Disable the account" };

/** A review is due this long after the last one was signed off (or after the first account was made). */
export const ACCESS_REVIEW_INTERVAL_DAYS = 90;
const DAY = 86_400_000;

/** Accounts shown on a review's page at once; the search narrows them. */
export const REVIEW_ITEMS_SHOWN = 200;

export const REVIEW_ITEM_FILTERS = ["undecided", "to_carry_out", "decided", "all"] as const;
export type ReviewItemFilter = (typeof REVIEW_ITEM_FILTERS)[number];

export const accessDecisionSchema = z
  .object({
    reviewId: z.uuid(),
    userId: z.uuid(),
    decision: z.enum(ACCESS_DECISIONS, "Choose keep, remove roles and groups, or disable."),
    note: z.string().trim().max(1_000, "At most 1,000 characters.").default(""),
  })
  .refine((d) => d.decision === "keep" || d.note.length >= 3, { path: ["note"], message: "Say why this access goes (a few words)." });

export type ReviewResult = { ok: true; message: string } | { ok: false; error: string };

type Access = { roles: readonly string[]; groups: readonly string[] };
/** More than signing in: a console role or a group (what "remove roles and groups" takes away). */
const holdsElevatedAccess = (a: Access) => a.roles.some((role) => role !== "user") || a.groups.length > 0;

/**
 * Whether a decision has been carried out on the live account (a deleted account has none left).
 * Disabling does not carry out "remove roles and groups": enabled again, the account would have them back.
 */
function carriedOut(decision: string | null, now: (Access & { disabled: boolean }) | undefined): boolean {
  if (decision === null || decision === "keep" || !now) return true;
  return decision === "disable" ? now.disabled : !holdsElevatedAccess(now);
}

const REMOVALS = ["reduce", "disable"];

/** Begins a review: every account as it stands now. Refused while another review is open. */
export async function startAccessReview(ctx: AuditContext, now = new Date()): Promise<ReviewResult & { id?: string }> {
  const accounts = await listAccountsForReview(now);
  try {
    const review = await db().$transaction(async (tx) => {
      const created = await tx.accessReview.create({ data: { startedBy: actingUserId(ctx), startedAt: now } });
      await tx.accessReviewItem.createMany({
        data: accounts.map((a) => ({
          reviewId: created.id, userId: a.id, email: a.email, name: a.name, roles: a.roles, groups: a.groups, disabled: !!a.disabledAt,
          lastSignInAt: a.lastSignInAt, secondFactors: factorNames(a.secondFactors).join(" + ") || "none",
        })),
      });
      return created;
    });
    await audit(ctx, { type: "compliance", action: "compliance.access_review.start", outcome: "success", resource: { type: "access_review", id: review.id }, metadata: { accounts: accounts.length } });
    return { ok: true, id: review.id, message: `Review started with ${counted(accounts.length, "account", "accounts")}.` };
  } catch (error) {
    if (isUniqueViolation(error)) return { ok: false, error: "A review is already open: finish it before starting another." };
    throw error;
  }
}

type Tx = Prisma.TransactionClient;

/** Locks the review's row (shared for decisions, exclusive for the sign-off) and says whether it is open. */
async function lockOpenReview(tx: Tx, reviewId: string, mode: "share" | "update"): Promise<"open" | "closed" | "missing"> {
  const rows = await tx.$queryRaw<{ completed_at: Date | null }[]>`SELECT completed_at FROM access_reviews WHERE id = ${reviewId}::uuid FOR ${Prisma.raw(mode === "share" ? "SHARE" : "UPDATE")}`;
  if (!rows[0]) return "missing";
  return rows[0].completed_at ? "closed" : "open";
}

const NOT_OPEN = { missing: "There is no such review.", closed: "This review is signed off: its decisions are final." } as const;

/** Records (or changes) the decision on one account of an open review. Nobody decides on their own access. */
export async function decideAccess(input: z.infer<typeof accessDecisionSchema>, ctx: AuditContext, now = new Date()): Promise<ReviewResult> {
  const decider = actingUserId(ctx);
  if (!decider) return { ok: false, error: "Only a person can decide on access." };
  if (decider === input.userId) return { ok: false, error: "Someone else must review your own access." };
  const result = await db().$transaction(async (tx): Promise<ReviewResult & { email?: string }> => {
    const state = await lockOpenReview(tx, input.reviewId, "share");
    if (state !== "open") return { ok: false, error: NOT_OPEN[state] };
    const item = await tx.accessReviewItem.findUnique({ where: { reviewId_userId: { reviewId: input.reviewId, userId: input.userId } }, select: { email: true, roles: true, groups: true, disabled: true } });
    if (!item) return { ok: false, error: "That account is not in this review." };
    if (input.decision === "reduce" && !holdsElevatedAccess(item)) return { ok: false, error: `${item.email} held no role or group to remove when the review began: keep it or disable it.` };
    if (input.decision === "disable" && item.disabled) return { ok: false, error: `${item.email} was already disabled when the review began: keep it disabled.` };
    await tx.accessReviewItem.update({
      where: { reviewId_userId: { reviewId: input.reviewId, userId: input.userId } },
      data: { decision: input.decision, note: input.note || null, decidedBy: decider, decidedByEmail: ctx.actor.label ?? null, decidedAt: now },
    });
    return { ok: true, message: `${item.email}: ${ACCESS_DECISION_LABELS[input.decision].toLowerCase()}.`, email: item.email };
  });
  if (!result.ok) return result;
  await audit(ctx, {
    type: "compliance", action: "compliance.access_review.decide", outcome: "success", resource: { type: "access_review", id: input.reviewId },
    metadata: { userId: input.userId, email: result.email ?? null, decision: input.decision, note: input.note || null },
  });
  return { ok: true, message: result.message };
}

/** The review's accounts with no role or group whom the policies let manage part of the console all the same (by email or by name). */
async function empoweredByName(reviewId: string, now: Date): Promise<string[]> {
  if (!(await policiesSingleOutAccounts(now))) return [];
  const items = await db().accessReviewItem.findMany({ where: { reviewId, decision: null, groups: { isEmpty: true } }, select: { userId: true, email: true, roles: true, groups: true } });
  const empowered = [];
  for (const item of items) if (await mayManageSomeSection(item, now)) empowered.push(item.userId);
  return empowered;
}

/**
 * Keeps, in one go, every undecided account that held nothing beyond signing in (no role but user,
 * no group): the bulk of most reviews. Not one the policies let manage part of the console by its
 * email or by name: that access is a reviewer's to look at.
 */
export async function keepSignInOnlyAccounts(reviewId: string, ctx: AuditContext, now = new Date()): Promise<ReviewResult> {
  const decider = actingUserId(ctx);
  if (!decider) return { ok: false, error: "Only a person can decide on access." };
  // Asked before the transaction: on the embedded database its one connection is the transaction's.
  const empowered = await empoweredByName(reviewId, now);
  const result = await db().$transaction(async (tx): Promise<ReviewResult & { count?: number; userIds?: string[] }> => {
    const state = await lockOpenReview(tx, reviewId, "share");
    if (state !== "open") return { ok: false, error: NOT_OPEN[state] };
    const where = { reviewId, decision: null, userId: { not: decider, notIn: empowered }, groups: { isEmpty: true }, NOT: { roles: { hasSome: ELEVATED_ROLES } } };
    const userIds = (await tx.accessReviewItem.findMany({ where, select: { userId: true } })).map((i) => i.userId).sort();
    const { count } = await tx.accessReviewItem.updateMany({ where: { ...where, userId: { in: userIds } }, data: { decision: "keep", decidedBy: decider, decidedByEmail: ctx.actor.label ?? null, decidedAt: now } });
    return { ok: true, count, userIds, message: count ? `${counted(count, "account", "accounts")} with sign-in access only kept.` : "No undecided account holds sign-in access only." };
  });
  if (result.ok && result.count) {
    // The accounts kept, so the trail can be matched to the review's rows: by id up to a few
    // hundred, and always by the SHA-256 of their sorted ids (one per line).
    const ids = result.userIds ?? [];
    await audit(ctx, {
      type: "compliance", action: "compliance.access_review.keep_sign_in_only", outcome: "success", resource: { type: "access_review", id: reviewId },
      metadata: { accounts: result.count, userIdsSha256: sha256(ids.join("\n")), ...(ids.length <= 200 && { userIds: ids }) },
    });
  }
  return result.ok ? { ok: true, message: result.message } : result;
}

type ItemRow = Awaited<ReturnType<ReturnType<typeof db>["accessReviewItem"]["findFirstOrThrow"]>>;
// By email then id, compared by code unit here rather than by the database's collation, which
// may change with an operating system upgrade: the signed-off CSV must keep its SHA-256.
const byEmail = (a: ItemRow, b: ItemRow) => (a.email < b.email ? -1 : a.email > b.email ? 1 : a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);
const reviewItems = async (client: Tx | ReturnType<typeof db>, reviewId: string) => (await client.accessReviewItem.findMany({ where: { reviewId } })).sort(byEmail);

const CSV_COLUMNS = ["email", "name", "roles", "groups", "status_at_start", "last_sign_in_at", "second_factors", "decision", "note", "decided_by", "decided_at"] as const;

/** A review as CSV, from what is stored only: the signed-off file reads the same, byte for byte, whenever it is downloaded. */
function reviewCsv(items: ItemRow[]): string {
  const iso = (d: Date | null) => d?.toISOString() ?? "";
  return csvRows([CSV_COLUMNS, ...items.map((i) => [
    i.email, i.name, i.roles.join(" "), i.groups.join(" "), i.disabled ? "disabled" : "active", iso(i.lastSignInAt), i.secondFactors,
    i.decision ?? "undecided", i.note, i.decidedByEmail ?? i.decidedBy, iso(i.decidedAt),
  ])]);
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Signs a review off: every account decided and every removal carried out on the live account.
 * The review's row is locked first, so no decision changes between the check and the digest.
 */
export async function completeAccessReview(reviewId: string, ctx: AuditContext, now = new Date()): Promise<ReviewResult> {
  const result = await db().$transaction(async (tx): Promise<ReviewResult & { summary?: Record<string, number | string> }> => {
    const state = await lockOpenReview(tx, reviewId, "update");
    if (state !== "open") return { ok: false, error: NOT_OPEN[state] };
    const items = await reviewItems(tx, reviewId);
    const undecided = items.filter((i) => !i.decision);
    if (undecided.length) return { ok: false, error: `${counted(undecided.length, "account is", "accounts are")} still undecided.` };
    const live = await currentAccess(items.filter((i) => i.decision !== "keep").map((i) => i.userId), tx);
    const pending = items.filter((i) => !carriedOut(i.decision, live.get(i.userId)));
    if (pending.length) return { ok: false, error: `Carry out ${counted(pending.length, "removal", "removals")} on the user's page first: ${pending.slice(0, 3).map((i) => i.email).join(", ")}${pending.length > 3 ? ", …" : ""}.` };
    const digest = sha256(reviewCsv(items));
    await tx.accessReview.update({ where: { id: reviewId }, data: { completedAt: now, completedBy: actingUserId(ctx), digest } });
    const tally = (d: AccessDecision) => items.filter((i) => i.decision === d).length;
    return { ok: true, message: `Review signed off: ${counted(items.length, "account", "accounts")}, SHA-256 ${digest.slice(0, 12)}…`, summary: { accounts: items.length, kept: tally("keep"), reduced: tally("reduce"), disabled: tally("disable"), sha256: digest } };
  });
  if (!result.ok) return result;
  await audit(ctx, { type: "compliance", action: "compliance.access_review.complete", outcome: "success", resource: { type: "access_review", id: reviewId }, metadata: result.summary });
  return { ok: true, message: result.message };
}

export type ReviewSummary = {
  id: string; open: boolean; startedAt: Date; startedBy: string | null; completedAt: Date | null; completedBy: string | null; digest: string | null;
  accounts: number; undecided: number; kept: number; reduced: number; disabled: number;
};

/** Reviews, newest first, with their tallies and people named by email. */
export const listAccessReviews = (take = 50) => reviewSummaries({}, take);

async function reviewSummaries(where: { id?: string }, take: number): Promise<ReviewSummary[]> {
  const reviews = await db().accessReview.findMany({ where, orderBy: { startedAt: "desc" }, take });
  const ids = reviews.map((r) => r.id);
  const tallies = ids.length ? await db().accessReviewItem.groupBy({ by: ["reviewId", "decision"], where: { reviewId: { in: ids } }, _count: { _all: true } }) : [];
  const count = (id: string, decision: string | null) => tallies.filter((t) => t.reviewId === id && (decision === "*" || t.decision === decision)).reduce((n, t) => n + t._count._all, 0);
  const emails = await userEmails([...new Set(reviews.flatMap((r) => [r.startedBy, r.completedBy]).filter((id): id is string => !!id))]);
  const email = (id: string | null) => (id ? (emails.get(id) ?? "deleted user") : null);
  return reviews.map((r) => ({
    id: r.id, open: !r.completedAt, startedAt: r.startedAt, startedBy: email(r.startedBy), completedAt: r.completedAt, completedBy: email(r.completedBy), digest: r.digest,
    accounts: count(r.id, "*"), undecided: count(r.id, null), kept: count(r.id, "keep"), reduced: count(r.id, "reduce"), disabled: count(r.id, "disable"),
  }));
}

export type ReviewItemView = {
  userId: string; email: string; name: string; roles: string[]; groups: string[]; disabled: boolean; lastSignInAt: Date | null; secondFactors: string;
  decision: AccessDecision | null; note: string | null; decidedBy: string | null; decidedAt: Date | null;
  /** The account still exists (its page can be opened). */
  exists: boolean;
  /** A removal decided and not yet done on the live account. */
  toCarryOut: boolean;
};

export type ReviewDetail = { review: ReviewSummary; toCarryOut: number; items: ReviewItemView[]; matching: number };

/** A review with the accounts the filter and search pick (at most REVIEW_ITEMS_SHOWN), and how many removals wait. */
export async function accessReviewDetail(reviewId: string, filter: ReviewItemFilter = "undecided", search: string | null = null): Promise<ReviewDetail | null> {
  const [review] = await reviewSummaries({ id: reviewId }, 1);
  if (!review) return null;
  // Removals are few beside a review's accounts: only they are checked against the live accounts.
  const removals = review.open ? await db().accessReviewItem.findMany({ where: { reviewId, decision: { in: REMOVALS } }, select: { userId: true, decision: true } }) : [];
  const removalAccess = await currentAccess(removals.map((r) => r.userId));
  const waiting = new Set(removals.filter((r) => !carriedOut(r.decision, removalAccess.get(r.userId))).map((r) => r.userId));
  const needle = search?.trim();
  const where: Prisma.AccessReviewItemWhereInput = {
    reviewId,
    ...(filter === "undecided" && { decision: null }),
    ...(filter === "decided" && { decision: { not: null } }),
    ...(filter === "to_carry_out" && { userId: { in: [...waiting] } }),
    ...(needle && { OR: [{ email: { contains: needle, mode: "insensitive" } }, { name: { contains: needle, mode: "insensitive" } }] }),
  };
  const [matching, rows] = await Promise.all([
    db().accessReviewItem.count({ where }),
    db().accessReviewItem.findMany({ where, orderBy: [{ email: "asc" }, { userId: "asc" }], take: REVIEW_ITEMS_SHOWN }),
  ]);
  const live = await currentAccess(rows.map((i) => i.userId));
  const items: ReviewItemView[] = rows.map((i) => ({
    userId: i.userId, email: i.email, name: i.name, roles: i.roles, groups: i.groups, disabled: i.disabled, lastSignInAt: i.lastSignInAt, secondFactors: i.secondFactors,
    decision: i.decision as AccessDecision | null, note: i.note, decidedBy: i.decidedByEmail, decidedAt: i.decidedAt,
    exists: live.has(i.userId), toCarryOut: waiting.has(i.userId),
  }));
  return { review, toCarryOut: waiting.size, items, matching };
}

/** A review's CSV for download, with its SHA-256 and, once signed off, the one recorded then (they differ only if the stored review was altered); audited. */
export async function downloadAccessReview(reviewId: string, ctx: AuditContext): Promise<{ csv: string; digest: string; signedDigest: string | null; open: boolean; startedAt: Date } | null> {
  const review = await db().accessReview.findUnique({ where: { id: reviewId } });
  if (!review) return null;
  const csv = reviewCsv(await reviewItems(db(), reviewId));
  const digest = sha256(csv);
  await audit(ctx, {
    type: "compliance", action: "compliance.access_review.download", outcome: "success", resource: { type: "access_review", id: reviewId },
    metadata: { signedOff: !!review.completedAt, sha256: digest, matchesSignOff: review.digest ? review.digest === digest : null },
  });
  return { csv, digest, signedDigest: review.digest, open: !review.completedAt, startedAt: review.startedAt };
}

/** For the CC6.3 test: the last signed-off review, and when the next one is (or was) due. */
export async function accessReviewDue(): Promise<{ last: { id: string; startedAt: Date; completedAt: Date; completedBy: string | null; digest: string | null; accounts: number } | null; dueBy: Date | null }> {
  const last = await db().accessReview.findFirst({ where: { completedAt: { not: null } }, orderBy: { startedAt: "desc" }, include: { _count: { select: { items: true } } } });
  if (last?.completedAt) {
    const by = last.completedBy ? (await userEmails([last.completedBy])).get(last.completedBy) ?? "deleted user" : null;
    // Due from the access it looked at (its start), not from its sign-off: a review signed off
    // months after it began must not stretch the gap between two looks at the accounts.
    return {
      last: { id: last.id, startedAt: last.startedAt, completedAt: last.completedAt, completedBy: by, digest: last.digest, accounts: last._count.items },
      dueBy: new Date(last.startedAt.getTime() + ACCESS_REVIEW_INTERVAL_DAYS * DAY),
    };
  }
  const first = await firstAccountCreatedAt();
  return { last: null, dueBy: first && new Date(first.getTime() + ACCESS_REVIEW_INTERVAL_DAYS * DAY) };
}
