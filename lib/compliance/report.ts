import "server-only";
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { z } from "zod";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { checkAuditEvents, searchAuditEvents } from "../audit";
import { CONTROLS } from "./catalog";
import { CHECKS } from "./checks";
import { findingKeys, listExceptions, type ApprovedFindings } from "./exceptions";
import { RESULTS_CURRENT_FOR_MS, resultEntry } from "./runs";
import { renderReportHtml, reportFromFile } from "./report-html";
import { controlStatus } from "./status";

// The auditor's report for a period: per control, every test result with its evidence hash, the
// exceptions that could count, and the status at the period's end. It can be checked against the
// audit trail: each run's compliance.run event (whose hash the report carries) lists the results'
// evidence hashes; each exception's request and approval are events too; and the report's own
// digest is the resource id of the compliance.report event its download recorded.

const DAY = 86_400_000;
// PostgreSQL's timestamps end at year 294276 and start after 4713 BC; a report needs far less.
const isoDay = z.iso.date("Use a date like 2026-01-31.").refine((d) => d >= "2000-01-01" && d <= "9998-12-31", "Use a date between 2000 and 9998.");

/** A period of whole UTC days, both ends included, at most two years. */
export const reportPeriodSchema = z
  .object({ from: isoDay, to: isoDay })
  .transform(({ from, to }) => ({ from: new Date(`${from}T00:00:00Z`), to: new Date(new Date(`${to}T00:00:00Z`).getTime() + DAY) }))
  .refine((p) => p.to > p.from, { message: "The period must end on or after its first day.", path: ["to"] })
  .refine((p) => p.to.getTime() - p.from.getTime() <= 731 * DAY, { message: "At most two years per report.", path: ["to"] })
  .refine((p) => p.from.getTime() <= Date.now(), { message: "The period cannot start in the future.", path: ["from"] });
export type ReportPeriod = z.infer<typeof reportPeriodSchema>;

// A report handed back for verification is untrusted: strict objects (an added field is a change)
// and bounded sizes (a two-year report of daily runs is far below these).
const MAX_SEQ = BigInt("9223372036854775807");
const DIGEST = /^[0-9a-f]{64}$/;
const text = (max = 2_000) => z.string().max(max);
const list = <T extends z.ZodType>(item: T, max = 20_000) => z.array(item).max(max);
const auditRef = z.strictObject({ seq: z.string().regex(/^\d{1,19}$/).refine((v) => BigInt(v) <= MAX_SEQ), hash: z.string().regex(/^[0-9a-f]{64}$/) });
type AuditRef = z.infer<typeof auditRef>;
const mappings = z.strictObject({ iso27001: list(text(50), 50), nist80053: list(text(50), 50), hipaa: list(text(50), 50), gdpr: list(text(50), 50) });

// A time the report states, as buildReport writes it: an ISO instant within years PostgreSQL and
// people use (a forged report's year -271821 is a valid Date that no query can take).
const instant = z.iso.datetime().refine((v) => new Date(v).getUTCFullYear() >= 2000, "Not a time this report could hold.");

/** The report's JSON. Its schema also reads a report handed back for verification. */
export const complianceReportSchema = z.strictObject({
  kind: z.literal("gatehouse.compliance-report"),
  version: z.literal(1),
  generatedAt: instant,
  generatedBy: text(320),
  /** `to` is exclusive: the first moment after the period. */
  period: z.strictObject({ from: instant, to: instant }),
  summary: z.strictObject({ pass: z.number(), fail: z.number(), excepted: z.number(), not_tested: z.number() }),
  controls: list(z.strictObject({
    id: text(20), title: text(200), owner: text(200), mappings, statusAtEnd: text(20),
    tests: list(z.strictObject({
      check: text(100), title: text(300), passed: z.number(), failed: z.number(),
      results: list(z.strictObject({ at: text(40), runId: text(40), status: text(20), summary: text(), evidenceSha256: text(64) })),
    }), 100),
    exceptions: list(z.strictObject({
      id: text(40), state: text(20), justification: text(), checks: list(text(100), 100).optional(),
      // What each excepted test named at approval (absent in reports made before this was kept; null for exceptions approved before).
      findings: z.record(text(100), list(z.strictObject({ key: text(20_000), label: text(20_000) }), 10_000)).nullable().optional(),
      requestedBy: text(320).nullable(), approvedBy: text(320).nullable(),
      createdAt: text(40), approvedAt: text(40).nullable(), expiresAt: text(40), revokedAt: text(40).nullable(),
      auditEvents: list(auditRef.extend({ action: text(64) }), 20),
    }), 1_000),
  }), 100),
  runs: list(z.strictObject({ id: text(40), trigger: text(20), startedAt: text(40), auditEvent: auditRef.nullable() })),
  /** SHA-256 of the RFC 8785 canonical JSON of everything above. */
  digest: z.string().regex(DIGEST),
});
export type ComplianceReport = z.infer<typeof complianceReportSchema>;

const iso = (d: Date | null) => d?.toISOString() ?? null;

export async function buildReport(period: ReportPeriod, generatedBy: string, now = new Date()): Promise<ComplianceReport> {
  const runs = await db().complianceRun.findMany({
    where: { startedAt: { gte: period.from, lt: period.to } }, orderBy: { startedAt: "asc" }, take: 20_000,
    select: { id: true, trigger: true, startedAt: true, auditSeq: true },
  });
  const results = await db().complianceResult.findMany({
    where: { at: { gte: period.from, lt: period.to } },
    orderBy: [{ at: "asc" }, { check: "asc" }],
    select: { runId: true, check: true, status: true, summary: true, at: true, evidenceSha256: true },
  });
  const end = new Date(Math.min(period.to.getTime() - 1, now.getTime()));
  const exceptions = await listExceptions({ activeSince: period.from, createdBefore: period.to }, end);
  // The status at the period's end from the period's own results, and only those still current
  // then (as the console holds them): tests that stopped running weeks before the end say nothing.
  const atEnd = await controlStatus(end, new Date(Math.max(period.from.getTime(), end.getTime() - RESULTS_CURRENT_FOR_MS)));

  const runEvents = await checkAuditEvents(runs.flatMap((r) => (r.auditSeq === null ? [] : [r.auditSeq])));
  const runRefs = runs.map((run) => {
    const event = run.auditSeq === null ? undefined : runEvents.get(run.auditSeq.toString())?.event;
    return { id: run.id, trigger: run.trigger, startedAt: run.startedAt.toISOString(), auditEvent: event ? { seq: event.seq, hash: event.hash } : null };
  });
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
        id: e.id, state: e.state, justification: e.justification, checks: e.checks, findings: e.findings, requestedBy: e.requestedBy, approvedBy: e.approvedBy,
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

const APPROVAL_ACTIONS = ["compliance.exception.approve", "compliance.exception.grant"];

/** Which time of an exception each of its audit events records; the row must agree with the trail. */
const EXCEPTION_EVENT_TIMES = {
  "compliance.exception.request": "createdAt",
  "compliance.exception.approve": "approvedAt",
  "compliance.exception.grant": "approvedAt",
  "compliance.exception.revoke": "revokedAt",
  "compliance.exception.reject": "revokedAt",
} as const;
// The row's time comes from the app server's clock, the event's from the database's, a moment
// later: apart by more than this, one of them was changed (an exception moved into another period,
// a revoked one made to stand again).
const EXCEPTION_CLOCK_SLACK_MS = 15 * 60_000;

/** Why an exception's times disagree with the event that recorded one of them, if they do. */
function exceptionTimeProblem(exception: { id: string; createdAt: string; approvedAt: string | null; revokedAt: string | null }, action: string, eventAt: string): string | null {
  const field = EXCEPTION_EVENT_TIMES[action as keyof typeof EXCEPTION_EVENT_TIMES];
  if (!field) return null;
  const recorded = exception[field];
  if (recorded !== null && Math.abs(Date.parse(recorded) - Date.parse(eventAt)) <= EXCEPTION_CLOCK_SLACK_MS) return null;
  return `Exception ${exception.id}: its ${field} (${recorded ?? "none"}) is not the time of its ${action} event (${eventAt}): it was changed since.`;
}

/**
 * Checks a downloaded report file (HTML or JSON) against the audit trail, and records that it was
 * checked. For HTML, what the page shows must also be what it carries.
 */
export async function verifyReportFile(file: string, ctx: AuditContext): Promise<ReportVerification> {
  const { json, html } = reportFromFile(file);
  const result = await verifyReport(json);
  if (html && result.checked > 0 && renderReportHtml(json as ComplianceReport) !== file) {
    result.problems.unshift("The HTML was edited after it was downloaded: what it shows is not the report it carries.");
    result.ok = false;
  }
  const digest = (json as { digest?: unknown } | null)?.digest;
  await audit(ctx, {
    type: "compliance", action: "compliance.report.verify", outcome: result.ok ? "success" : "failure",
    resource: typeof digest === "string" && DIGEST.test(digest) ? { type: "compliance_report", id: digest } : undefined,
    metadata: { checked: result.checked, problems: result.problems.slice(0, 20) },
  });
  return result;
}

/** Does an approval event's record (control, expiry, tests, findings) match the exception as the report has it? */
function approvalMatches(metadata: unknown, control: string, exception: { expiresAt: string; checks?: string[]; findings?: ApprovedFindings | null }): boolean {
  const approved = (metadata ?? {}) as { control?: unknown; expiresAt?: unknown; checks?: unknown; findings?: unknown };
  const sorted = (list: unknown) => (Array.isArray(list) ? [...(list as unknown[])].map(String).sort() : null);
  const byTest = (findings: unknown) =>
    findings && typeof findings === "object" ? canonicalize(Object.fromEntries(Object.entries(findings).map(([check, keys]) => [check, sorted(keys)]))) : null;
  // Approvals recorded before they named the tests (or the findings) excused say nothing about them.
  const sameChecks = approved.checks === undefined || JSON.stringify(sorted(approved.checks)) === JSON.stringify(sorted(exception.checks));
  const sameFindings = approved.findings === undefined ? !exception.findings : !!exception.findings && byTest(approved.findings) === byTest(findingKeys(exception.findings));
  return approved.control === control && approved.expiresAt === exception.expiresAt && sameChecks && sameFindings;
}

/** Checks a report (its JSON) against the audit trail: its digest, its download event, every run's and exception's events. */
export async function verifyReport(input: unknown): Promise<ReportVerification> {
  const parsed = complianceReportSchema.safeParse(input);
  if (!parsed.success) return { ok: false, checked: 0, problems: ["This is not a Gatehouse compliance report (JSON, version 1)."] };
  const report = parsed.data;
  const problems: string[] = [];
  let checked = 1;
  const { digest, ...body } = report;
  if (reportDigest(body) !== digest) problems.push("The report's content does not match its digest: it was changed after it was generated.");
  const { events: downloads } = await searchAuditEvents({ action: "compliance.report", resourceType: "compliance_report", resourceId: digest });

  // Every event the report names, and its download events, checked in one batch.
  const exceptionRefs = report.controls.flatMap((c) => c.exceptions.flatMap((e) => e.auditEvents));
  const named = [...report.runs.flatMap((r) => (r.auditEvent ? [r.auditEvent] : [])), ...exceptionRefs];
  const chain = await checkAuditEvents([...new Set([...named.map((r) => r.seq), ...downloads.map((d) => d.seq)])].map((seq) => BigInt(seq)));
  if (!downloads.some((d) => chain.get(d.seq)?.intact && chain.get(d.seq)!.event.hash === d.hash)) problems.push("No intact compliance.report event in the audit trail records this report.");

  /** The audit event a report points at, if it exists, is intact and is the one the report names. */
  const verifiedEvent = (ref: AuditRef | null, what: string) => {
    const found = ref && chain.get(ref.seq);
    if (!ref) problems.push(`${what} names no audit event.`);
    else if (!found) problems.push(`Audit event ${ref.seq} (${what}) is not in the audit trail.`);
    else if (!found.hashHolds) problems.push(`Audit event ${ref.seq} (${what}) was altered: its hash does not recompute.`);
    else if (!found.intact) problems.push(`Audit event ${ref.seq} (${what}) was altered: the chain does not link through it.`);
    else if (found.event.hash !== ref.hash) problems.push(`Audit event ${ref.seq} (${what}) has a different hash from the one in the report.`);
    else return found.event;
    return null;
  };

  const runEvents = new Map<string, Set<string>>();
  for (const run of report.runs) {
    const event = verifiedEvent(run.auditEvent, `run ${run.id}`);
    if (!event) continue;
    checked += 1;
    if (event.action !== "compliance.run" || event.resourceId !== run.id) problems.push(`Audit event ${event.seq} is not run ${run.id}'s compliance.run event.`);
    else runEvents.set(run.id, new Set((event.metadata as { results?: string[] }).results ?? []));
  }
  const listed = new Map<string, Set<string>>();
  for (const control of report.controls) {
    for (const test of control.tests) {
      for (const r of test.results) {
        checked += 1;
        const entry = resultEntry({ check: test.check, ...r });
        (listed.get(r.runId) ?? listed.set(r.runId, new Set()).get(r.runId)!).add(entry);
        if (!runEvents.get(r.runId)?.has(entry)) problems.push(`${control.id} ${test.check} at ${r.at}: the result is not the one its run recorded in the audit trail.`);
      }
    }
    for (const exception of control.exceptions) {
      for (const ref of exception.auditEvents) {
        const event = verifiedEvent(ref, `exception ${exception.id}`);
        checked += 1;
        if (event && (event.resourceId !== exception.id || event.action !== ref.action)) problems.push(`Audit event ${ref.seq} does not record exception ${exception.id}.`);
        // What was approved is what the report says is in force: the exceptions table has no
        // trigger, so a later edit (a later expiry, more tests excused) shows here.
        else if (event?.action === "compliance.exception.approve" && !approvalMatches(event.metadata, control.id, exception)) {
          problems.push(`Exception ${exception.id} is not what was approved (audit event ${ref.seq}): its control, expiry, tests or findings were changed since.`);
        } else if (event) {
          const timeProblem = exceptionTimeProblem(exception, event.action, String(event.at));
          if (timeProblem) problems.push(timeProblem);
        }
      }
      if (exception.approvedAt && !exception.auditEvents.some((e) => APPROVAL_ACTIONS.includes(e.action))) problems.push(`Exception ${exception.id} claims an approval the report does not link to the audit trail.`);
    }
  }
  // Nothing left out: every result each run recorded, and every run of the period the trail records.
  // Of the tests the report lists (a test since retired is not held against it).
  const reportedChecks = new Set(report.controls.flatMap((c) => c.tests.map((t) => t.check)));
  for (const [runId, recorded] of runEvents) {
    const missing = [...recorded].filter((entry) => reportedChecks.has(entry.split(":")[0]!) && !listed.get(runId)?.has(entry));
    if (missing.length) problems.push(`Run ${runId} recorded ${missing.length} result(s) the report leaves out: ${missing.slice(0, 3).join(", ")}.`);
  }
  for (const runId of await runsRecordedIn(report.period, report.generatedAt, new Set(report.runs.map((r) => r.id)))) problems.push(`Run ${runId}, recorded in the audit trail for this period, is missing from the report.`);
  // The problems name what the report claims: bounded, since a forged report chooses them.
  return { ok: problems.length === 0, checked, problems: problems.slice(0, 50).map((p) => p.slice(0, 300)) };
}

/**
 * The runs of a period, up to when the report was made, by their compliance.run audit events, that
 * are not among `known`: those whose row is gone from the database, or that started in the period
 * (a run's event is written as it ends, so one that started just before can have its event inside).
 */
async function runsRecordedIn(period: { from: string; to: string }, generatedAt: string, known: Set<string>): Promise<string[]> {
  const from = new Date(period.from);
  // A run after the report was made (the period may end later, today's at midnight) is not one it left out.
  const to = new Date(Math.min(new Date(period.to).getTime(), new Date(generatedAt).getTime()));
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return [];
  const ids: string[] = [];
  // An hour past the end: a run that started in the period and finished after it.
  let page = await searchAuditEvents({ action: "compliance.run", from, to: new Date(to.getTime() + 3_600_000) });
  for (;;) {
    ids.push(...page.events.flatMap((e) => (e.resourceId && !known.has(e.resourceId) ? [e.resourceId] : [])));
    if (page.nextBefore === null || ids.length > 1_000) break;
    page = await searchAuditEvents({ action: "compliance.run", from, to: new Date(to.getTime() + 3_600_000) }, BigInt(page.nextBefore));
  }
  if (ids.length === 0) return [];
  const rows = await db().complianceRun.findMany({ where: { id: { in: ids.filter((id) => z.uuid().safeParse(id).success) } }, select: { id: true, startedAt: true } });
  const started = new Map(rows.map((r) => [r.id, r.startedAt]));
  return ids.filter((id) => {
    const at = started.get(id);
    return !at || (at >= from && at < to);
  });
}
