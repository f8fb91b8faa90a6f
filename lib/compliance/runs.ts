import "server-only";
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { z } from "zod";
import { db } from "../db/client";
import { audit, SYSTEM_CONTEXT, type AuditContext } from "../audit/context";
import { findActiveUserWithRole } from "../auth/users";
import { CONTROLS } from "./catalog";
import { CHECKS, type CheckOutcome } from "./checks";

// Running the control tests, and what the controls' status is now. Each run stores every check's
// evidence as canonical JSON with its SHA-256, and its audit event carries those hashes, so a
// report can be checked against the tamper-evident trail.

export type RunSummary = { runId: string; results: { check: string; control: string; status: "pass" | "fail" | "error"; summary: string; evidenceSha256: string }[] };

export async function runControlTests(trigger: "schedule" | "manual", ctx: AuditContext, now = new Date()): Promise<RunSummary> {
  const run = await db().complianceRun.create({ data: { trigger, actorId: ctx.actor.type === "user" ? (ctx.actor.id ?? null) : null, startedAt: now } });
  const results: RunSummary["results"] = [];
  for (const check of CHECKS) {
    let outcome: CheckOutcome & { error?: boolean };
    try {
      outcome = await check.run(now);
    } catch (error) {
      // A check that cannot run is not a pass: it is reported as an error (and fails the control).
      outcome = { pass: false, error: true, summary: `The check could not run: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500), evidence: {} };
    }
    const evidence = canonicalize({ check: check.key, control: check.control, at: now.toISOString(), data: outcome.evidence })!;
    const evidenceSha256 = createHash("sha256").update(evidence).digest("hex");
    const status = outcome.error ? "error" : outcome.pass ? "pass" : "fail";
    await db().complianceResult.create({ data: { runId: run.id, control: check.control, check: check.key, status, summary: outcome.summary, evidence, evidenceSha256, at: now } });
    results.push({ check: check.key, control: check.control, status, summary: outcome.summary, evidenceSha256 });
  }
  await db().complianceRun.update({ where: { id: run.id }, data: { finishedAt: new Date() } });
  await audit(ctx, {
    type: "compliance", action: "compliance.run", outcome: results.every((r) => r.status === "pass") ? "success" : "failure", resource: { type: "compliance_run", id: run.id },
    metadata: { trigger, results: results.map((r) => `${r.check}:${r.status}:${r.evidenceSha256}`) },
  });
  return { runId: run.id, results };
}

export const CONTROL_STATUSES = ["pass", "fail", "excepted", "not_tested"] as const;
export type ControlStatus = (typeof CONTROL_STATUSES)[number];

export type ControlState = {
  id: string; title: string; owner: string; mappings: (typeof CONTROLS)[number]["mappings"];
  status: ControlStatus;
  checks: { check: string; status: string; summary: string; at: Date; evidenceSha256: string }[];
  exception: { id: string; justification: string; expiresAt: Date } | null;
};

/** Each control's status at `now`: its checks' latest results, and an exception in force for a failing one. */
export async function controlStatus(now = new Date()): Promise<ControlState[]> {
  const latest = await db().$queryRaw<{ check: string; control: string; status: string; summary: string; at: Date; evidence_sha256: string }[]>`
    SELECT DISTINCT ON ("check") "check", control, status, summary, at, evidence_sha256 FROM compliance_results WHERE at <= ${now} ORDER BY "check", at DESC`;
  const exceptions = await db().complianceException.findMany({ where: { revokedAt: null, createdAt: { lte: now }, expiresAt: { gt: now } }, orderBy: { expiresAt: "desc" } });
  return CONTROLS.map((control) => {
    const checks = CHECKS.filter((c) => c.control === control.id).flatMap((c) => {
      const r = latest.find((l) => l.check === c.key);
      return r ? [{ check: r.check, status: r.status, summary: r.summary, at: r.at, evidenceSha256: r.evidence_sha256 }] : [];
    });
    const exception = exceptions.find((e) => e.control === control.id) ?? null;
    const failing = checks.some((c) => c.status !== "pass");
    const status: ControlStatus = checks.length === 0 ? "not_tested" : !failing ? "pass" : exception ? "excepted" : "fail";
    return { ...control, status, checks, exception: exception && failing ? { id: exception.id, justification: exception.justification, expiresAt: exception.expiresAt } : null };
  });
}

export const exceptionSchema = z.object({
  control: z.enum(CONTROLS.map((c) => c.id) as [string, ...string[]]),
  justification: z.string().trim().min(10, "Explain why the risk is accepted (at least 10 characters).").max(2_000),
  expiresAt: z.coerce.date().refine((d) => d.getTime() > Date.now(), "The expiry must be in the future.").refine((d) => d.getTime() < Date.now() + 366 * 86_400_000, "At most a year: exceptions are reviewed."),
  approverEmail: z.email().max(254),
});

export type ExceptionResult = { ok: true; id: string } | { ok: false; error: string };

/** Grants an exception; the approver must be an active admin other than the requester. Audited. */
export async function grantException(input: z.infer<typeof exceptionSchema>, ctx: AuditContext): Promise<ExceptionResult> {
  const approver = await findActiveUserWithRole(input.approverEmail, ["admin"]);
  if (!approver) return { ok: false, error: `${input.approverEmail} is not an active admin.` };
  const requestedBy = ctx.actor.type === "user" ? (ctx.actor.id ?? null) : null;
  if (requestedBy === approver.userId) return { ok: false, error: "Someone other than the requester must approve an exception." };
  const exception = await db().complianceException.create({ data: { control: input.control, justification: input.justification, requestedBy, approvedBy: approver.userId, expiresAt: input.expiresAt } });
  await audit(ctx, {
    type: "compliance", action: "compliance.exception.grant", outcome: "success", resource: { type: "compliance_exception", id: exception.id },
    metadata: { control: input.control, justification: input.justification, approver: approver.email, expiresAt: input.expiresAt.toISOString() },
  });
  return { ok: true, id: exception.id };
}

export async function revokeException(id: string, ctx: AuditContext): Promise<boolean> {
  const { count } = await db().complianceException.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  if (count) await audit(ctx, { type: "compliance", action: "compliance.exception.revoke", outcome: "success", resource: { type: "compliance_exception", id } });
  return count > 0;
}

const globalForSchedule = globalThis as unknown as { gatehouseComplianceTimer?: NodeJS.Timeout };

/**
 * Runs the control tests daily. Every instance checks hourly and runs only when no run has started
 * in the last 23 hours, so a cluster runs about once a day.
 */
export function scheduleControlTests(): void {
  if (globalForSchedule.gatehouseComplianceTimer) return;
  const tick = async () => {
    const recent = await db().complianceRun.findFirst({ where: { startedAt: { gt: new Date(Date.now() - 23 * 3_600_000) } }, select: { id: true } });
    if (!recent) await runControlTests("schedule", SYSTEM_CONTEXT);
  };
  const run = () => void tick().catch((error: unknown) => console.error("[compliance] scheduled run:", error instanceof Error ? error.message : error));
  globalForSchedule.gatehouseComplianceTimer = setInterval(run, 3_600_000);
  globalForSchedule.gatehouseComplianceTimer.unref();
  // The first check waits a while after start: a restart loop must not run the tests each time.
  setTimeout(run, 15 * 60_000).unref();
}
