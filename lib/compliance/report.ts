import "server-only";
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { z } from "zod";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { checkAuditEvent, findAuditEvent, searchAuditEvents } from "../audit";
import { CONTROLS } from "./catalog";
import { CHECKS } from "./checks";
import { listExceptions } from "./exceptions";
import { listRuns, resultEntry } from "./runs";
import { controlStatus } from "./status";

// The auditor's report for a period: per control, every test result with its evidence hash, the
// exceptions that could count, and the status at the period's end. It can be checked against the
// audit trail: each run's compliance.run event (whose hash the report carries) lists the results'
// evidence hashes; each exception's request and approval are events too; and the report's own
// digest is the resource id of the compliance.report event its download recorded.

const DAY = 86_400_000;
const isoDay = z.iso.date("Use a date like 2026-01-31.");

/** A period of whole UTC days, both ends included, at most two years. */
export const reportPeriodSchema = z
  .object({ from: isoDay, to: isoDay })
  .transform(({ from, to }) => ({ from: new Date(`${from}T00:00:00Z`), to: new Date(new Date(`${to}T00:00:00Z`).getTime() + DAY) }))
  .refine((p) => p.to > p.from, { message: "The period must end on or after its first day.", path: ["to"] })
  .refine((p) => p.to.getTime() - p.from.getTime() <= 731 * DAY, { message: "At most two years per report.", path: ["to"] });
export type ReportPeriod = z.infer<typeof reportPeriodSchema>;

const auditRef = z.object({ seq: z.string().regex(/^\d{1,19}$/), hash: z.string() });
type AuditRef = z.infer<typeof auditRef>;
const mappings = z.object({ iso27001: z.array(z.string()), nist80053: z.array(z.string()), hipaa: z.array(z.string()), gdpr: z.array(z.string()) });

/** The report's JSON. Its schema also reads a report handed back for verification. */
export const complianceReportSchema = z.object({
  kind: z.literal("gatehouse.compliance-report"),
  version: z.literal(1),
  generatedAt: z.string(),
  generatedBy: z.string(),
  /** `to` is exclusive: the first moment after the period. */
  period: z.object({ from: z.string(), to: z.string() }),
  summary: z.object({ pass: z.number(), fail: z.number(), excepted: z.number(), not_tested: z.number() }),
  controls: z.array(z.object({
    id: z.string(), title: z.string(), owner: z.string(), mappings, statusAtEnd: z.string(),
    tests: z.array(z.object({
      check: z.string(), title: z.string(), passed: z.number(), failed: z.number(),
      results: z.array(z.object({ at: z.string(), runId: z.string(), status: z.string(), summary: z.string(), evidenceSha256: z.string() })),
    })),
    exceptions: z.array(z.object({
      id: z.string(), state: z.string(), justification: z.string(), requestedBy: z.string().nullable(), approvedBy: z.string().nullable(),
      createdAt: z.string(), approvedAt: z.string().nullable(), expiresAt: z.string(), revokedAt: z.string().nullable(),
      auditEvents: z.array(auditRef.extend({ action: z.string() })),
    })),
  })),
  runs: z.array(z.object({ id: z.string(), trigger: z.string(), startedAt: z.string(), auditEvent: auditRef.nullable() })),
  /** SHA-256 of the RFC 8785 canonical JSON of everything above. */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ComplianceReport = z.infer<typeof complianceReportSchema>;

const iso = (d: Date | null) => d?.toISOString() ?? null;

export async function buildReport(period: ReportPeriod, generatedBy: string, now = new Date()): Promise<ComplianceReport> {
  const runs = (await listRuns({ from: period.from, to: new Date(period.to.getTime() - 1), take: 5_000 })).reverse();
  const results = await db().complianceResult.findMany({
    where: { at: { gte: period.from, lt: period.to } },
    orderBy: [{ at: "asc" }, { check: "asc" }],
    select: { runId: true, check: true, status: true, summary: true, at: true, evidenceSha256: true },
  });
  const exceptions = await listExceptions({ activeSince: period.from, createdBefore: period.to }, period.to);
  const atEnd = await controlStatus(new Date(Math.min(period.to.getTime() - 1, now.getTime())));

  const runRefs = [];
  for (const run of runs) {
    const event = run.auditSeq ? await findAuditEvent(BigInt(run.auditSeq)) : null;
    runRefs.push({ id: run.id, trigger: run.trigger, startedAt: run.startedAt.toISOString(), auditEvent: event && { seq: event.seq, hash: event.hash } });
  }
  const controls = [];
  for (const control of CONTROLS) {
    const tests = CHECKS.filter((c) => c.control === control.id).map((check) => {
      const own = results.filter((r) => r.check === check.key);
      return {
        check: check.key, title: check.title,
        passed: own.filter((r) => r.status === "pass").length, failed: own.filter((r) => r.status !== "pass").length,
        results: own.map((r) => ({ at: r.at.toISOString(), runId: r.runId, status: r.status, summary: r.summary, evidenceSha256: r.evidenceSha256 })),
      };
    });
    const controlExceptions = [];
    for (const e of exceptions.filter((x) => x.control === control.id)) {
      const { events } = await searchAuditEvents({ resourceType: "compliance_exception", resourceId: e.id });
      controlExceptions.push({
        id: e.id, state: e.state, justification: e.justification, requestedBy: e.requestedBy, approvedBy: e.approvedBy,
        createdAt: e.createdAt.toISOString(), approvedAt: iso(e.approvedAt), expiresAt: e.expiresAt.toISOString(), revokedAt: iso(e.revokedAt),
        auditEvents: events.reverse().map((ev) => ({ seq: ev.seq, hash: ev.hash, action: ev.action })),
      });
    }
    const { id, title, owner, mappings } = control;
    controls.push({ id, title, owner, mappings, statusAtEnd: atEnd.find((c) => c.id === id)!.status, tests, exceptions: controlExceptions });
  }
  const summary = { pass: 0, fail: 0, excepted: 0, not_tested: 0 };
  for (const c of atEnd) summary[c.status] += 1;
  const body = {
    kind: "gatehouse.compliance-report" as const, version: 1 as const, generatedAt: now.toISOString(), generatedBy,
    period: { from: period.from.toISOString(), to: period.to.toISOString() }, summary, controls, runs: runRefs,
  };
  return { ...body, digest: reportDigest(body) };
}

function reportDigest(body: Omit<ComplianceReport, "digest">): string {
  return createHash("sha256").update(canonicalize(body)!).digest("hex");
}

/** Records the download: the report's digest is the event's resource id, so the report can be found from it. */
export async function auditReportDownload(report: ComplianceReport, format: "json" | "html", ctx: AuditContext) {
  await audit(ctx, {
    type: "compliance", action: "compliance.report", outcome: "success", resource: { type: "compliance_report", id: report.digest },
    metadata: { format, from: report.period.from, to: report.period.to, summary: report.summary, runs: report.runs.length },
  });
}

export type ReportVerification = { ok: boolean; checked: number; problems: string[] };

/** Checks a report (its JSON) against the audit trail: its digest, its download event, every run's and exception's events. */
export async function verifyReport(input: unknown): Promise<ReportVerification> {
  const parsed = complianceReportSchema.safeParse(input);
  if (!parsed.success) return { ok: false, checked: 0, problems: ["This is not a Gatehouse compliance report (JSON, version 1)."] };
  const report = parsed.data;
  const problems: string[] = [];
  let checked = 0;
  const { digest, ...body } = report;
  if (reportDigest(body) !== digest) problems.push("The report's content does not match its digest: it was changed after it was generated.");
  const { events: downloads } = await searchAuditEvents({ action: "compliance.report", resourceType: "compliance_report", resourceId: digest });
  if (downloads.length === 0) problems.push("No compliance.report event in the audit trail records this report.");

  const runEvents = new Map<string, Set<string>>();
  for (const run of report.runs) {
    const event = await verifiedEvent(run.auditEvent, `run ${run.id}`, problems);
    if (!event) continue;
    checked += 1;
    if (event.action !== "compliance.run" || event.resourceId !== run.id) problems.push(`Audit event ${event.seq} is not run ${run.id}'s compliance.run event.`);
    else runEvents.set(run.id, new Set((event.metadata as { results?: string[] }).results ?? []));
  }
  for (const control of report.controls) {
    for (const test of control.tests) {
      for (const r of test.results) {
        checked += 1;
        if (!runEvents.get(r.runId)?.has(resultEntry({ check: test.check, ...r }))) problems.push(`${control.id} ${test.check} at ${r.at}: the result is not the one its run recorded in the audit trail.`);
      }
    }
    for (const exception of control.exceptions) {
      for (const ref of exception.auditEvents) {
        const event = await verifiedEvent(ref, `exception ${exception.id}`, problems);
        checked += 1;
        if (event && (event.resourceId !== exception.id || event.action !== ref.action)) problems.push(`Audit event ${ref.seq} does not record exception ${exception.id}.`);
      }
      if (exception.approvedAt && !exception.auditEvents.some((e) => e.action === "compliance.exception.approve")) problems.push(`Exception ${exception.id} claims an approval the report does not link to the audit trail.`);
    }
  }
  return { ok: problems.length === 0, checked, problems };
}

/** The audit event a report points at, if it exists, is intact (its hash recomputes) and is the one the report names. */
async function verifiedEvent(ref: AuditRef | null, what: string, problems: string[]) {
  if (!ref) {
    problems.push(`${what} names no audit event.`);
    return null;
  }
  const checked = await checkAuditEvent(BigInt(ref.seq));
  if (!checked) problems.push(`Audit event ${ref.seq} (${what}) is not in the audit trail.`);
  else if (!checked.hashHolds) problems.push(`Audit event ${ref.seq} (${what}) was altered: its hash does not recompute.`);
  else if (checked.event.hash !== ref.hash) problems.push(`Audit event ${ref.seq} (${what}) has a different hash from the one in the report.`);
  else return checked.event;
  return null;
}
