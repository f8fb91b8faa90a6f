import "server-only";
import { createHash } from "node:crypto";
import { db } from "../db/client";
import { CONTROLS, type Control } from "./catalog";
import { CHECKS, checkTitle, type Finding } from "./checks";
import { excuses, exceptionsInForce, inForceAt, type ExceptionInForce } from "./exceptions";
import { latestResults, RESULTS_CURRENT_FOR_MS, type LatestResult } from "./runs";
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
  /** The accounts or objects the result names, read from its evidence. */
  findings: Finding[];
};


/** A stored result as people read it: evidence is canonical JSON of { check, control, at, data, nothingToCheck? } (runs.ts). */
function resultView({ evidence, ...r }: LatestResult): CheckResultView {
  const stored = parseJsonOrNull(evidence) as { at?: unknown; data?: unknown; nothingToCheck?: unknown } | null;
  const data = stored?.data && typeof stored.data === "object" ? (stored.data as Record<string, unknown>) : {};
  const findings = CHECKS.find((c) => c.key === r.check)?.findings?.({ at: String(stored?.at ?? r.at.toISOString()), data }) ?? [];
  return { ...r, title: checkTitle(r.check), nothingToCheck: r.status === "pass" && stored?.nothingToCheck === true, findings };
}

export type ControlState = Control & {
  status: ControlStatus;
  /** Passed, and every test had nothing to look at: not evidence that the control works. */
  nothingToCheck: boolean;
  checks: CheckResultView[];
  /** The exception that makes a failing control "excepted". */
  exception: ExceptionInForce | null;
};

/** A control's status from its tests' latest results, and the exceptions in force for it. */
function decide(results: { check: string; status: string }[], exceptions: ExceptionInForce[]): ControlStatus {
  if (results.length === 0) return "not_tested";
  const failing = results.filter((r) => r.status !== "pass").map((r) => r.check);
  return failing.length === 0 ? "pass" : excuses(exceptions, failing) ? "excepted" : "fail";
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
    const status = decide(checks, inForce);
    // The one to name on the console: the first to expire, when the control is excepted.
    const exception = inForce[0] ?? null;
    return { ...control, status, nothingToCheck: status === "pass" && checks.every((c) => c.nothingToCheck), checks, exception: status === "excepted" ? exception : null };
  });
}

export type TrendPoint = { runId: string; at: Date } & Record<Exclude<ControlStatus, "not_tested">, number>;

/** For each run in the `days` before `to`, oldest first: how many controls passed, failed or were excepted. */
export async function statusTrend(days: number, to = new Date()): Promise<TrendPoint[]> {
  const from = new Date(to.getTime() - days * 86_400_000);
  const rows = await db().$queryRaw<{ run_id: string; started_at: Date; control: string; failing: string[] }[]>`
    SELECT r.id AS run_id, r.started_at, res.control, coalesce(array_agg(res."check") FILTER (WHERE res.status <> 'pass'), '{}') AS failing
    FROM compliance_runs r JOIN compliance_results res ON res.run_id = r.id
    WHERE r.started_at >= ${from} AND r.started_at <= ${to}
    GROUP BY r.id, r.started_at, res.control ORDER BY r.started_at`;
  const approved = await db().complianceException.findMany({ where: { approvedAt: { not: null, lte: to }, expiresAt: { gt: from } } });
  const excused = (control: string, at: Date, failing: string[]) => excuses(approved.filter((e) => e.control === control && inForceAt(e, at)), failing);
  const points = new Map<string, TrendPoint>();
  for (const row of rows) {
    const point = points.get(row.run_id) ?? { runId: row.run_id, at: row.started_at, pass: 0, fail: 0, excepted: 0 };
    point[row.failing.length === 0 ? "pass" : excused(row.control, row.started_at, row.failing) ? "excepted" : "fail"] += 1;
    points.set(row.run_id, point);
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
  return rows.map((r) => ({ ...resultView(r), evidence: r.evidence, evidenceIntact: createHash("sha256").update(r.evidence).digest("hex") === r.evidenceSha256 }));
}
