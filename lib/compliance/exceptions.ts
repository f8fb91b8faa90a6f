import "server-only";
import { z } from "zod";
import { db } from "../db/client";
import { actingUserId, audit, type AuditContext } from "../audit/context";
import { userEmails } from "../auth/users";
import { CONTROL_IDS } from "./catalog";
import { latestResults, RESULTS_CURRENT_FOR_MS } from "./runs";

// Exceptions: a failing control's risk accepted for a while. Two people are involved: one admin
// requests (with a justification and an expiry), another approves; only then does it count, and it
// stops counting when it expires or is revoked. Who may request or approve is the policies' to say
// (the console's "manage" action on compliance); that requester and approver differ is checked here.

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

export type ExceptionView = {
  id: string; control: string; justification: string; state: ExceptionState;
  /** The tests it excepts: those failing when it was approved. */
  checks: string[];
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
    id: r.id, control: r.control, justification: r.justification, state: stateOf(r, now), checks: r.checks,
    requestedBy: email(r.requestedBy), approvedBy: email(r.approvedBy), revokedBy: email(r.revokedBy),
    createdAt: r.createdAt, approvedAt: r.approvedAt, expiresAt: r.expiresAt, revokedAt: r.revokedAt,
  }));
}

export type ExceptionInForce = { id: string; justification: string; expiresAt: Date; checks: string[] };

/** The exceptions in force at `now`, by control, soonest to expire first. */
export async function exceptionsInForce(now: Date): Promise<Map<string, ExceptionInForce[]>> {
  const rows = await db().complianceException.findMany({
    where: { approvedAt: { lte: now }, expiresAt: { gt: now }, OR: [{ revokedAt: null }, { revokedAt: { gt: now } }] },
    orderBy: { expiresAt: "asc" },
  });
  const byControl = new Map<string, ExceptionInForce[]>();
  for (const r of rows) (byControl.get(r.control) ?? byControl.set(r.control, []).get(r.control)!).push({ id: r.id, justification: r.justification, expiresAt: r.expiresAt, checks: r.checks });
  return byControl;
}

/** Whether a control's exceptions together excuse these failing tests: each must be one an exception was approved for. */
export const excuses = (exceptions: readonly { checks: readonly string[] }[], failing: readonly string[]) =>
  failing.every((check) => exceptions.some((e) => e.checks.includes(check)));

/** The control's tests whose latest current result at `now` is not a pass (as its status counts them). */
async function failingChecks(control: string, now: Date): Promise<string[]> {
  const latest = await latestResults(now, new Date(now.getTime() - RESULTS_CURRENT_FOR_MS), control);
  return latest.filter((r) => r.status !== "pass").map((r) => r.check).sort();
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
  // What is approved is the risk seen now: the tests failing at this moment. One that fails later
  // is a new risk, which the exception does not hide.
  const checks = await failingChecks(pending.control, now);
  if (checks.length === 0) return { ok: false, error: `No test of ${pending.control} is failing now: there is nothing to except. Run the tests if you expect one to fail.` };
  // The condition repeats in the update: of two approvals racing, one wins.
  const { count } = await db().complianceException.updateMany({ where: { id, approvedAt: null, revokedAt: null }, data: { approvedBy: approver, approvedAt: now, checks } });
  if (!count) return { ok: false, error: "This exception is not waiting for approval." };
  await audit(ctx, {
    type: "compliance", action: "compliance.exception.approve", outcome: "success", resource: { type: "compliance_exception", id },
    metadata: { control: pending.control, expiresAt: pending.expiresAt.toISOString(), checks },
  });
  return { ok: true };
}

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
