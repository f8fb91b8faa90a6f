import "server-only";
import { createHash } from "node:crypto";
import { db } from "../db/client";
import { CONTROLS, type Control } from "./catalog";
import { CHECKS, checkTitle, storedFindings, type Finding } from "./checks";
import { excuses, exceptionsApprovedBetween, exceptionsInForce, exceptsFinding, inForceAt, type Excepting, type ExceptionInForce, type FailingResult } from "./exceptions";
import { latestResults, resultEntry, RESULTS_CURRENT_FOR_MS, type LatestResult } from "./runs";
import { checkAuditEvents, oldestEventSeq } from "../audit";
import { parseJsonOrNull } from "../util/json";

// What the controls' status is, now or at any past moment, and how it went over time.

export const CONTROL_STATUSES = ["pass", "fail", "excepted", "not_tested"] as const;
export type ControlStatus = (typeof CONTROL_STATUSES)[number];

export type CheckResultView = {
  id: string;
  runId: string;
  check: string;
  /** The test's name, for people (the key is what the run's audit event lists). */
  title: string;
  status: string;
  summary: string;
  at: Date;
  evidenceSha256: string;
  /** A pass with nothing to look at (no analyst, no client), as its evidence records. */
  nothingToCheck: boolean;
  /** The accounts or objects the result names, read from its evidence (on the control's status, whether an exception covers them). */
  findings: FindingState[];
};

/** A finding, and for a failing test with an exception in force for it, whether the exception covers it. */
export type FindingState = Finding & { excepted?: boolean };


/** A stored result as people read it: evidence is canonical JSON of { check, control, at, data, nothingToCheck? } (runs.ts). */
function resultView({ evidence, ...r }: LatestResult): CheckResultView {
  const stored = parseJsonOrNull(evidence) as { nothingToCheck?: unknown } | null;
  return { ...r, title: checkTitle(r.check), nothingToCheck: r.status === "pass" && stored?.nothingToCheck === true, findings: storedFindings({ ...r, evidence }) };
}

const failingOf = (results: readonly { check: string; status: string; findings: readonly Finding[] }[]): FailingResult[] =>
  results.filter((r) => r.status !== "pass").map((r) => ({ check: r.check, findings: r.findings.map((f) => f.key) }));

export type ControlState = Control & {
  status: ControlStatus;
  /** Passed, and every test had nothing to look at: not evidence that the control works. */
  nothingToCheck: boolean;
  checks: CheckResultView[];
  /** The exception that makes a failing control "excepted". */
  exception: ExceptionInForce | null;
};

/** A tested control's status from its failing tests (with what they name) and the exceptions in force for it. */
function testedStatus(failing: FailingResult[], exceptions: readonly Excepting[]): Exclude<ControlStatus, "not_tested"> {
  return failing.length === 0 ? "pass" : excuses(exceptions, failing) ? "excepted" : "fail";
}

/** Marks each finding of a failing test that an exception in force names: excepted or not. */
function withExceptedFindings(result: CheckResultView, exceptions: ExceptionInForce[]): CheckResultView {
  if (result.status === "pass" || !exceptions.some((e) => e.checks.includes(result.check))) return result;
  return { ...result, findings: result.findings.map((f) => ({ ...f, excepted: exceptsFinding(exceptions, result.check, f.key) })) };
}

/**
 * Each control's status at `now`: its checks' latest results since `since` (by default, the last
 * RESULTS_CURRENT_FOR_MS; a report passes its period's start), and an exception in force for a failing one.
 */
export async function controlStatus(now = new Date(), since = new Date(now.getTime() - RESULTS_CURRENT_FOR_MS)): Promise<ControlState[]> {
  const latest = await latestResults(now, since);
  const exceptions = await exceptionsInForce(now);
  return CONTROLS.map((control) => {
    const checks = CHECKS.filter((c) => c.control === control.id).flatMap((c) => {
      const r = latest.find((l) => l.check === c.key);
      return r ? [resultView(r)] : [];
    });
    const inForce = exceptions.get(control.id) ?? [];
    const status = checks.length === 0 ? "not_tested" : testedStatus(failingOf(checks), inForce);
    // The one to name on the console: the first to expire, when the control is excepted.
    const exception = inForce[0] ?? null;
    return {
      ...control, status, nothingToCheck: status === "pass" && checks.every((c) => c.nothingToCheck),
      checks: checks.map((c) => withExceptedFindings(c, inForce)), exception: status === "excepted" ? exception : null,
    };
  });
}

export type TrendPoint = { runId: string; at: Date } & Record<Exclude<ControlStatus, "not_tested">, number>;

/** For each run in the `days` before `to`, oldest first: how many controls passed, failed or were excepted. */
export async function statusTrend(days: number, to = new Date()): Promise<TrendPoint[]> {
  const from = new Date(to.getTime() - days * 86_400_000);
  const approved = await exceptionsApprovedBetween(from, to);
  // A failing result's evidence (what it names) is read only where an exception could excuse it.
  const excepted = [...new Set(approved.map((e) => e.control))];
  const rows = await db().$queryRaw<{ run_id: string; started_at: Date; control: string; check: string; status: string; at: Date; evidence: string | null }[]>`
    SELECT r.id AS run_id, r.started_at, res.control, res."check", res.status, res.at,
      CASE WHEN res.status <> 'pass' AND res.control = ANY(${excepted}::text[]) THEN res.evidence END AS evidence
    FROM compliance_runs r JOIN compliance_results res ON res.run_id = r.id
    WHERE r.started_at >= ${from} AND r.started_at <= ${to}
    ORDER BY r.started_at`;
  const byRunAndControl = new Map<string, { runId: string; at: Date; control: string; failing: FailingResult[] }>();
  for (const row of rows) {
    const key = `${row.run_id} ${row.control}`;
    const entry = byRunAndControl.get(key) ?? byRunAndControl.set(key, { runId: row.run_id, at: row.started_at, control: row.control, failing: [] }).get(key)!;
    if (row.status !== "pass") entry.failing.push({ check: row.check, findings: row.evidence === null ? [] : storedFindings({ ...row, evidence: row.evidence }).map((f) => f.key) });
  }
  const points = new Map<string, TrendPoint>();
  for (const { runId, at, control, failing } of byRunAndControl.values()) {
    const point = points.get(runId) ?? { runId, at, pass: 0, fail: 0, excepted: 0 };
    point[testedStatus(failing, approved.filter((e) => e.control === control && inForceAt(e, at)))] += 1;
    points.set(runId, point);
  }
  return [...points.values()];
}

/**
 * A control's results, newest first, each with its raw evidence (for auditors), whether that
 * evidence still hashes to the SHA-256 its run recorded, and what people read of it.
 */
export async function controlHistory(control: string, filter: { from?: Date; to?: Date; take?: number } = {}): Promise<(CheckResultView & { evidence: string; evidenceIntact: boolean })[]> {
  const rows = await db().complianceResult.findMany({
    where: { control, at: { gte: filter.from, lte: filter.to } },
    orderBy: [{ at: "desc" }, { check: "asc" }],
    take: filter.take ?? 100,
    select: { id: true, runId: true, check: true, status: true, summary: true, at: true, evidence: true, evidenceSha256: true },
  });
  const recorded = await resultsRecordedInTrail([...new Set(rows.map((r) => r.runId))]);
  // Intact: the evidence hashes to its SHA-256, and that is what its run's audit event recorded
  // (the two columns alone could have been edited together). A run still under way has no event
  // yet, and retention may have purged an old one: then the row's own hash is all there is.
  const intact = (r: (typeof rows)[number]) => {
    const trail = recorded.get(r.runId);
    return createHash("sha256").update(r.evidence).digest("hex") === r.evidenceSha256 && (trail === undefined || (trail !== "altered" && trail.has(resultEntry(r))));
  };
  return rows.map((r) => ({ ...resultView(r), evidence: r.evidence, evidenceIntact: intact(r) }));
}

/**
 * The results each run recorded in its compliance.run audit event, by run id; "altered" when the
 * event is broken, not the run's, or missing though it should be there. Left out: a run still
 * under way (no event yet) and one whose event retention purged (before the first event left).
 */
async function resultsRecordedInTrail(runIds: string[]): Promise<Map<string, Set<string> | "altered">> {
  const [runs, firstSeq] = await Promise.all([
    db().complianceRun.findMany({ where: { id: { in: runIds } }, select: { id: true, auditSeq: true, finishedAt: true } }),
    oldestEventSeq(),
  ]);
  const events = await checkAuditEvents(runs.flatMap((r) => (r.auditSeq === null ? [] : [r.auditSeq])));
  return new Map(runs.flatMap((run): [string, Set<string> | "altered"][] => {
    if (run.auditSeq === null) return run.finishedAt === null ? [] : [[run.id, "altered"]];
    const checked = events.get(run.auditSeq.toString());
    if (!checked) return firstSeq === null || run.auditSeq < firstSeq ? [] : [[run.id, "altered"]];
    if (!checked.intact || checked.event.action !== "compliance.run" || checked.event.resourceId !== run.id) return [[run.id, "altered"]];
    return [[run.id, new Set((checked.event.metadata as { results?: string[] }).results ?? [])]];
  }));
}
