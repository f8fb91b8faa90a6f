import "server-only";
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { db, Prisma } from "../db/client";
import { audit, SYSTEM_CONTEXT, type AuditContext } from "../audit/context";
import { CHECKS, type CheckOutcome } from "./checks";
import { everyHour } from "../util/hourly";

// Running the control tests. Each run stores every check's
// evidence as canonical JSON with its SHA-256, and its audit event carries those hashes, so a
// report can be checked against the tamper-evident trail.

export type RunSummary = { runId: string; results: { check: string; control: string; status: "pass" | "fail" | "error"; summary: string; evidenceSha256: string }[] };

/** How a result appears in its run's audit event: a report's results are checked against these. */
export const resultEntry = (r: { check: string; status: string; evidenceSha256: string }) => `${r.check}:${r.status}:${r.evidenceSha256}`;

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
    // "Nothing to check" goes into the hashed evidence: nobody can turn such a pass into a tested one unnoticed.
    const evidence = canonicalize({ check: check.key, control: check.control, at: now.toISOString(), data: outcome.evidence, ...(outcome.nothingToCheck && { nothingToCheck: true }) })!;
    const evidenceSha256 = createHash("sha256").update(evidence).digest("hex");
    const status = outcome.error ? "error" : outcome.pass ? "pass" : "fail";
    await db().complianceResult.create({ data: { runId: run.id, control: check.control, check: check.key, status, summary: outcome.summary, evidence, evidenceSha256, at: now } });
    results.push({ check: check.key, control: check.control, status, summary: outcome.summary, evidenceSha256 });
  }
  const event = await audit(ctx, {
    type: "compliance", action: "compliance.run", outcome: results.every((r) => r.status === "pass") ? "success" : "failure", resource: { type: "compliance_run", id: run.id },
    metadata: { trigger, results: results.map(resultEntry) },
  });
  await db().complianceRun.update({ where: { id: run.id }, data: { finishedAt: new Date(), auditSeq: BigInt(event.seq) } });
  return { runId: run.id, results };
}

// The tests run daily: a result older than this says nothing about the control now, so a control
// whose tests stopped running shows as not tested rather than keeping its last pass.
export const RESULTS_CURRENT_FOR_MS = 3 * 86_400_000;

export type LatestResult = { id: string; runId: string; check: string; status: string; summary: string; at: Date; evidence: string; evidenceSha256: string };

/** Each test's latest result between `since` and `now` (of one control, if named): what a control's status goes by. */
export async function latestResults(now: Date, since: Date, control?: string): Promise<LatestResult[]> {
  const ofControl = control ? Prisma.sql`AND control = ${control}` : Prisma.empty;
  // Found by id first, so that only the latest results' evidence is read.
  return db().$queryRaw<LatestResult[]>`
    SELECT r.id, r.run_id AS "runId", r."check", r.status, r.summary, r.at, r.evidence, r.evidence_sha256 AS "evidenceSha256"
    FROM (SELECT DISTINCT ON ("check") id FROM compliance_results WHERE at <= ${now} AND at >= ${since} ${ofControl} ORDER BY "check", at DESC) latest
    JOIN compliance_results r ON r.id = latest.id`;
}

/**
 * Runs the control tests daily. Every instance checks hourly and runs only when no scheduled run
 * has started in the last 23 hours, so a cluster runs about once a day. Runs started by hand do
 * not put it off: whoever clicks "run now" must not choose when every test happens.
 */
export function scheduleControlTests(): void {
  everyHour("compliance scheduled run", 15 * 60_000, () => runScheduledTestsIfDue());
}

/** The scheduled run, if none has started in the last 23 hours; its id, or null when not due. */
export async function runScheduledTestsIfDue(now = new Date()): Promise<string | null> {
  const recent = await db().complianceRun.findFirst({ where: { trigger: "schedule", startedAt: { gt: new Date(now.getTime() - 23 * 3_600_000) } }, select: { id: true } });
  return recent ? null : (await runControlTests("schedule", SYSTEM_CONTEXT, now)).runId;
}

export type RunView = { id: string; trigger: string; startedAt: Date; finishedAt: Date | null; auditSeq: string | null; passed: number; failed: number };

/** Runs, newest first, with how many checks passed and failed in each. */
export async function listRuns(filter: { from?: Date; to?: Date; take?: number } = {}): Promise<RunView[]> {
  const runs = await db().complianceRun.findMany({
    where: { startedAt: { gte: filter.from, lte: filter.to } },
    orderBy: { startedAt: "desc" },
    take: filter.take ?? 50,
    select: { id: true, trigger: true, startedAt: true, finishedAt: true, auditSeq: true, results: { select: { status: true } } },
  });
  return runs.map(({ results, auditSeq, ...run }) => ({
    ...run,
    auditSeq: auditSeq?.toString() ?? null,
    passed: results.filter((r) => r.status === "pass").length,
    failed: results.filter((r) => r.status !== "pass").length,
  }));
}
