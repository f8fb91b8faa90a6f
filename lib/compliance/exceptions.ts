import "server-only";
import { z } from "zod";
import { db } from "../db/client";
import { actingUserId, audit, type AuditContext } from "../audit/context";
import { userEmails } from "../auth/users";
import { CONTROL_IDS } from "./catalog";
import { formerlyUnnamedFailure, storedFindings } from "./checks";
import { latestResults, RESULTS_CURRENT_FOR_MS } from "./runs";

// Exceptions: a failing control's risk accepted for a while. Two people are involved: one admin
// requests (with a justification and an expiry), another approves; only then does it count, and it
// stops counting when it expires or is revoked. Who may request or approve is the policies' to say
// (the console's "manage" action on compliance); that requester and approver differ is checked here.
// What is approved is the risk seen at approval: the tests failing then, and what each named (the
// accounts without MFA, say). A test failing later, or naming something else, is not excepted.

const DAY = 86_400_000;

export const exceptionRequestSchema = z.object({
  control: z.enum(CONTROL_IDS as [string, ...string[]], "Choose a control."),
  justification: z.string().trim().min(10, "Explain why the risk is accepted (at least 10 characters).").max(2_000),
  expiresAt: z.coerce
    .date("Give an expiry date.")
    .refine((d) => d.getTime() > Date.now(), "The expiry must be in the future.")
    .refine((d) => d.getTime() < Date.now() + 366 * DAY, "At most a year: exceptions are reviewed."),
});

export type ExceptionState = "pending" | "in_force" | "expired" | "revoked" | "rejected";

/**
 * What each excepted test named when the exception was approved, by test. Null: approved before
 * findings were kept, so the whole tests. An empty list: approved while the test failed naming
 * nothing, which none does since 2026-12-06 (see `approvedKeys`).
 */
export type ApprovedFindings = Record<string, { key: string; label: string }[]>;

const approvedFindingsSchema = z.record(z.string(), z.array(z.object({ key: z.string(), label: z.string() })));
const approvedFindings = (stored: unknown): ApprovedFindings | null => approvedFindingsSchema.nullable().catch(null).parse(stored ?? null);

export type ExceptionView = {
  id: string; control: string; justification: string; state: ExceptionState;
  /** The tests it excepts: those failing when it was approved. */
  checks: string[];
  findings: ApprovedFindings | null;
  requestedBy: string | null; approvedBy: string | null; revokedBy: string | null;
  createdAt: Date; approvedAt: Date | null; expiresAt: Date; revokedAt: Date | null;
};

type Row = Awaited<ReturnType<typeof exceptionRows>>[number];

type Dates = { approvedAt: Date | null; expiresAt: Date; revokedAt: Date | null };

/** Whether an exception counts at `at`: approved by then, not yet expired, not yet revoked. (exceptionsInForce asks the same in SQL.) */
export const inForceAt = (e: Dates, at: Date) => !!e.approvedAt && e.approvedAt <= at && e.expiresAt > at && (!e.revokedAt || e.revokedAt > at);

function stateOf(e: Row, now: Date): ExceptionState {
  if (inForceAt(e, now)) return "in_force";
  if (e.revokedAt && e.revokedAt <= now) return e.approvedAt && e.approvedAt < e.revokedAt ? "revoked" : "rejected";
  return e.expiresAt <= now ? "expired" : "pending";
}

function exceptionRows(where: { control?: string; createdBefore?: Date; activeSince?: Date }) {
  return db().complianceException.findMany({
    where: {
      control: where.control,
      createdAt: where.createdBefore && { lte: where.createdBefore },
      ...(where.activeSince && { expiresAt: { gte: where.activeSince }, OR: [{ revokedAt: null }, { revokedAt: { gte: where.activeSince } }] }),
    },
    orderBy: { createdAt: "desc" },
    take: 500,
  });
}

/** Exceptions, newest first, with their state at `now` and people named by email. `activeSince` keeps those that could count after it. */
export async function listExceptions(filter: { control?: string; createdBefore?: Date; activeSince?: Date } = {}, now = new Date()): Promise<ExceptionView[]> {
  const rows = await exceptionRows(filter);
  const emails = await userEmails([...new Set(rows.flatMap((r) => [r.requestedBy, r.approvedBy, r.revokedBy]).filter((id): id is string => !!id))]);
  const email = (id: string | null) => (id ? (emails.get(id) ?? "deleted user") : null);
  return rows.map((r) => ({
    id: r.id, control: r.control, justification: r.justification, state: stateOf(r, now), checks: r.checks, findings: approvedFindings(r.findings),
    requestedBy: email(r.requestedBy), approvedBy: email(r.approvedBy), revokedBy: email(r.revokedBy),
    createdAt: r.createdAt, approvedAt: r.approvedAt, expiresAt: r.expiresAt, revokedAt: r.revokedAt,
  }));
}

export type ExceptionInForce = { id: string; justification: string; expiresAt: Date; checks: string[]; findings: ApprovedFindings | null };

/** The exceptions in force at `now`, by control, soonest to expire first. */
export async function exceptionsInForce(now: Date): Promise<Map<string, ExceptionInForce[]>> {
  const rows = await db().complianceException.findMany({
    where: { approvedAt: { lte: now }, expiresAt: { gt: now }, OR: [{ revokedAt: null }, { revokedAt: { gt: now } }] },
    orderBy: { expiresAt: "asc" },
  });
  const byControl = new Map<string, ExceptionInForce[]>();
  for (const r of rows) (byControl.get(r.control) ?? byControl.set(r.control, []).get(r.control)!).push({ id: r.id, justification: r.justification, expiresAt: r.expiresAt, checks: r.checks, findings: approvedFindings(r.findings) });
  return byControl;
}

/** The exceptions approved by `to` that had not expired by `from`, whatever happened to them after (a trend decides at each moment). */
export async function exceptionsApprovedBetween(from: Date, to: Date) {
  const rows = await db().complianceException.findMany({ where: { approvedAt: { not: null, lte: to }, expiresAt: { gt: from } } });
  return rows.map((r) => ({ control: r.control, approvedAt: r.approvedAt, expiresAt: r.expiresAt, revokedAt: r.revokedAt, checks: r.checks, findings: approvedFindings(r.findings) }));
}

export type Excepting = Pick<ExceptionInForce, "checks" | "findings">;
/** A failing result as exceptions judge it: its test and the keys of what it named. */
export type FailingResult = { check: string; findings: readonly string[] };

const WHOLE_TEST = "whole test";

/**
 * The keys of what an exception was approved for in `check`: what the test named at approval. Only
 * an exception approved before findings were kept (null) covers its tests whole. An empty list was
 * stored when the test failed naming nothing (until 2026-12-06: no verification in 24 hours, no
 * log file, no review signed off): it covers what that failure names now, and nothing else, so a
 * chain found broken months after an approval for a missed verification is a failure again. A
 * test with several ways to fail that named none of them (CC7.4 until 2026-12-05) cannot tell
 * which was approved: such an exception covers nothing, and is requested again.
 */
function approvedKeys(e: Excepting, check: string): readonly string[] | typeof WHOLE_TEST {
  if (!e.findings) return WHOLE_TEST;
  const named = e.findings[check] ?? [];
  if (named.length) return named.map((f) => f.key);
  const formerly = formerlyUnnamedFailure(check);
  return formerly ? [formerly] : [];
}

/** Whether one of these exceptions was approved for `check` naming `finding`. */
export const exceptsFinding = (exceptions: readonly Excepting[], check: string, finding: string) =>
  exceptions.some((e) => {
    if (!e.checks.includes(check)) return false;
    const keys = approvedKeys(e, check);
    return keys === WHOLE_TEST || keys.includes(finding);
  });

/** Whether one of these exceptions covers `check` whatever it names (approved before findings were kept). */
const exceptsWholeTest = (exceptions: readonly Excepting[], check: string) => exceptions.some((e) => e.checks.includes(check) && approvedKeys(e, check) === WHOLE_TEST);

/**
 * Whether a control's exceptions together excuse these failing results: each test must be one an
 * exception was approved for, and each thing it names one that was approved with it. A failure
 * naming nothing (none should: checks.ts) is excused only by an exception for the whole test.
 */
export const excuses = (exceptions: readonly Excepting[], failing: readonly FailingResult[]) =>
  failing.every((r) => (r.findings.length ? r.findings.every((key) => exceptsFinding(exceptions, r.check, key)) : exceptsWholeTest(exceptions, r.check)));

/**
 * The control's tests whose latest current result at `now` is not a pass (as its status counts
 * them), with what each names: what approving an exception for it now would except.
 */
export async function failingResults(control: string, now: Date): Promise<{ check: string; findings: { key: string; label: string }[] }[]> {
  const latest = await latestResults(now, new Date(now.getTime() - RESULTS_CURRENT_FOR_MS), control);
  return latest
    .filter((r) => r.status !== "pass")
    .map((r) => ({ check: r.check, findings: storedFindings(r).map(({ key, label }) => ({ key, label })) }))
    .sort((a, b) => a.check.localeCompare(b.check));
}


export async function requestException(input: z.infer<typeof exceptionRequestSchema>, ctx: AuditContext): Promise<{ id: string }> {
  const exception = await db().complianceException.create({ data: { control: input.control, justification: input.justification, requestedBy: actingUserId(ctx), expiresAt: input.expiresAt } });
  await audit(ctx, {
    type: "compliance", action: "compliance.exception.request", outcome: "requires_approval", resource: { type: "compliance_exception", id: exception.id },
    metadata: { control: input.control, justification: input.justification, expiresAt: input.expiresAt.toISOString() },
  });
  return { id: exception.id };
}

export type DecisionResult = { ok: true } | { ok: false; error: string };

/** Approves a pending request: by someone other than its requester, before it expires. Audited. */
export async function approveException(id: string, ctx: AuditContext, now = new Date()): Promise<DecisionResult> {
  const approver = actingUserId(ctx);
  const pending = await db().complianceException.findFirst({ where: { id, approvedAt: null, revokedAt: null, expiresAt: { gt: now } } });
  if (!pending) return { ok: false, error: "This exception is not waiting for approval." };
  if (!approver || pending.requestedBy === approver) return { ok: false, error: "Someone other than the requester must approve an exception." };
  // What is approved is the risk seen now: the tests failing at this moment and what they name.
  // One that fails later, or a second account that turns up, is a new risk the exception does not hide.
  const failing = await failingResults(pending.control, now);
  const checks = failing.map((r) => r.check);
  const findings: ApprovedFindings = Object.fromEntries(failing.map((r) => [r.check, r.findings]));
  if (checks.length === 0) return { ok: false, error: `No test of ${pending.control} is failing now: there is nothing to except. Run the tests if you expect one to fail.` };
  // The condition repeats in the update: of two approvals racing, one wins.
  const { count } = await db().complianceException.updateMany({ where: { id, approvedAt: null, revokedAt: null }, data: { approvedBy: approver, approvedAt: now, checks, findings } });
  if (!count) return { ok: false, error: "This exception is not waiting for approval." };
  await audit(ctx, {
    type: "compliance", action: "compliance.exception.approve", outcome: "success", resource: { type: "compliance_exception", id },
    metadata: { control: pending.control, expiresAt: pending.expiresAt.toISOString(), checks, findings: findingKeys(findings) },
  });
  return { ok: true };
}

/** What an approval's audit event records of its findings: the keys, by test. */
export const findingKeys = (findings: ApprovedFindings) => Object.fromEntries(Object.entries(findings).map(([check, list]) => [check, list.map((f) => f.key)]));

/** Rejects a pending request or revokes an approved exception before it expires. Audited. */
export async function revokeException(id: string, ctx: AuditContext, now = new Date()): Promise<DecisionResult> {
  const current = await db().complianceException.findFirst({ where: { id, revokedAt: null, expiresAt: { gt: now } } });
  if (!current) return { ok: false, error: "This exception has already ended." };
  const { count } = await db().complianceException.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now, revokedBy: actingUserId(ctx) } });
  if (!count) return { ok: false, error: "This exception has already ended." };
  await audit(ctx, {
    type: "compliance", action: current.approvedAt ? "compliance.exception.revoke" : "compliance.exception.reject", outcome: "success",
    resource: { type: "compliance_exception", id }, metadata: { control: current.control },
  });
  return { ok: true };
}
