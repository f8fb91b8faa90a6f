import "server-only";
import { db, type Prisma } from "../db/client";
import { actingUserId, audit, SYSTEM_CONTEXT, type AuditContext } from "../audit/context";
import { countAuditEvents } from "../audit/search";
import { readConfig } from "../config";
import { randomUUID } from "node:crypto";
import { ACCOUNT_STEPS, incidentTargets, performAction, usersActedOn, type ActionResult, type IncidentTargets } from "./actions";
import type { Granter } from "../auth/users";
import { findPlaybook, matchingPlaybooks, playbookVersion, type Step } from "./playbooks";
import { RULES, type RuleKey } from "./rules";
import { enqueuePlaybookRun, PLAYBOOK_ATTEMPTS } from "./queue";
import { CLOSED_STATUSES, STEP_LABELS, type IncidentStatus, type Severity } from "./model";

// Carrying out playbook runs. A run is claimed with a lease (one worker at a time; a worker that
// dies loses it when the lease ends and the queue retries the job). Each finished step is stored
// (run, index) before the next starts, and a stored step is never run again, so a run that is
// interrupted and retried finishes with each step done once. A failed step is retried with the
// run, PLAYBOOK_ATTEMPTS times for each step (an earlier step's retries, or a restart, do not spend
// a later step's); after its last attempt it is recorded as failed, and a failed critical step
// ends the run. A failed step that is not critical (telling the admins) does not hold up the ones
// after it, but the run still ends failed, naming it: a response that did not all happen is
// counted (SOC 2 CC7.4) and can be run again.

/**
 * Starts every playbook in force that this alert triggers (by the alert's own type and severity)
 * and has not started for it. The run acts on the alert's user and IP: an incident gathers alerts
 * that share any user or IP, and one user's alert must not set off a response meant for another
 * kind of incident against a user who merely signed in from the same network.
 */
export async function startMatchingPlaybooks(alertId: string): Promise<string[]> {
  const alert = await db().alert.findUniqueOrThrow({ where: { id: alertId }, select: { rule: true, severity: true, summary: true, incidentId: true } });
  const type = RULES[alert.rule as RuleKey]?.type;
  const started: string[] = [];
  for (const playbook of type ? await matchingPlaybooks([type], alert.severity as Severity) : []) {
    const run = await db().playbookRun.createManyAndReturn({
      data: [{ incidentId: alert.incidentId, alertId, playbookId: playbook.id, version: playbook.version }],
      skipDuplicates: true,
    });
    if (!run[0]) continue;
    await db().incidentEvent.create({ data: { incidentId: alert.incidentId, kind: "playbook", text: `Playbook "${playbook.name}" v${playbook.version} started for the alert "${alert.summary}"`, data: { runId: run[0].id, alertId } } });
    await audit(SYSTEM_CONTEXT, { type: "incident", action: "incident.playbook.start", outcome: "success", resource: { type: "incident", id: alert.incidentId }, metadata: { runId: run[0].id, alertId, playbook: playbook.name, version: playbook.version } });
    await enqueuePlaybookRun(run[0].id);
    started.push(run[0].id);
  }
  return started;
}

/** A step failed and has attempts left: the run is queued again after `delayMs` (2 s, then 4 s). */
export class RetryRun extends Error {
  constructor(message: string, readonly delayMs: number) {
    super(message);
  }
}

export type RunOutcome = { state: "finished" } | { state: "busy"; leaseUntil: Date };

/**
 * Carries a run out (the queue's handler). The lease has an owner and is renewed before each step;
 * a worker that lost it (it was too slow, and another took over) stops before acting again.
 * Throws RetryRun when a failing step should be tried again later; any other error releases the
 * lease for the queue's retry.
 */
export async function executeRun(runId: string): Promise<RunOutcome> {
  const leaseSeconds = readConfig().GATEHOUSE_PLAYBOOK_TIMEOUT_SECONDS;
  const owner = randomUUID();
  const [run] = await db().$queryRaw<ClaimedRun[]>`
    UPDATE playbook_runs SET status = 'running', attempts = attempts + 1, step_attempts = step_attempts + 1, lease_owner = ${owner}, lease_until = now() + make_interval(secs => ${leaseSeconds}::int)
    WHERE id = ${runId}::uuid AND status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < now())
    RETURNING incident_id, alert_id::text, playbook_id, version, step_attempts`;
  if (!run) {
    const current = await db().playbookRun.findUnique({ where: { id: runId }, select: { status: true, leaseUntil: true } });
    return current && (current.status === "queued" || current.status === "running") ? { state: "busy", leaseUntil: current.leaseUntil ?? new Date() } : { state: "finished" };
  }
  try {
    return await carryOut(runId, run, owner, leaseSeconds);
  } catch (error) {
    // A retry waits out its delay: the run stays held until then, or the stalled-run sweep would
    // start it at once and the delayed job would later spend an attempt of the step after.
    const heldUntil = error instanceof RetryRun ? new Date(Date.now() + error.delayMs) : null;
    await db().playbookRun.updateMany({ where: { id: runId, leaseOwner: owner }, data: { leaseUntil: heldUntil, leaseOwner: null } });
    throw error;
  }
}

type ClaimedRun = { incident_id: string; alert_id: string | null; playbook_id: string; version: number; step_attempts: number };

async function carryOut(runId: string, run: ClaimedRun, owner: string, leaseSeconds: number): Promise<RunOutcome> {
  const playbook = await playbookVersion(run.playbook_id, run.version);
  if (!playbook) return finish(runId, run.incident_id, "failed", "The playbook version is gone.");
  const done = new Map((await db().playbookStepResult.findMany({ where: { runId } })).map((r) => [r.index, r]));
  const ctx: AuditContext = { actor: { type: "system", id: null, label: `playbook: ${playbook.name}` }, client: null };
  let stepAttempts = run.step_attempts;
  // Non-critical steps that failed (recorded before a restart, or now): the run goes on past them.
  const failedSteps: number[] = [];

  for (const [index, step] of playbook.steps.entries()) {
    const recorded = done.get(index);
    if (recorded) {
      if (recorded.status === "failed" && step.critical) return finish(runId, run.incident_id, "failed", `Critical step ${index + 1} failed.`);
      if (recorded.status === "failed") failedSteps.push(index);
      continue;
    }
    const renewed = await db().$executeRaw`
      UPDATE playbook_runs SET lease_until = now() + make_interval(secs => ${leaseSeconds}::int) WHERE id = ${runId}::uuid AND lease_owner = ${owner}`;
    if (!renewed) return { state: "busy", leaseUntil: new Date(Date.now() + leaseSeconds * 1000) };
    const targets = await incidentTargets(run.incident_id, run.alert_id);
    if (!targets) return finish(runId, run.incident_id, "failed", "The incident is gone.");
    // An analyst closed it (resolved, or a false positive) while the run waited: nothing more is done.
    if (CLOSED_STATUSES.includes(targets.incident.status as IncidentStatus)) {
      return finish(runId, run.incident_id, "cancelled", `The incident was closed (${targets.incident.status}) before step ${index + 1}.`);
    }
    const result = await attempt(step, targets, ctx, `${runId}:${index}`, playbook.name);
    if (result.status === "failed" && stepAttempts < PLAYBOOK_ATTEMPTS) {
      throw new RetryRun(`step ${index + 1} (${step.kind}) failed: ${result.detail}`, 2_000 * 2 ** (stepAttempts - 1));
    }
    await recordStep(runId, owner, run.incident_id, index, step, result, playbook.name);
    if (result.status === "failed" && step.critical) return finish(runId, run.incident_id, "failed", `Critical step ${index + 1} failed: ${result.detail}`);
    if (result.status === "failed") failedSteps.push(index);
    stepAttempts = 1;
  }
  if (failedSteps.length) return finish(runId, run.incident_id, "failed", nonCriticalFailures(failedSteps, playbook.steps));
  return finish(runId, run.incident_id, "succeeded", "All steps done.");
}

/** The end of a run whose every critical step was done but some others failed: which ones. */
function nonCriticalFailures(failed: number[], steps: Step[]): string {
  const named = failed.map((index) => `${index + 1} (${STEP_LABELS[steps[index]!.kind]})`);
  return `${failed.length === 1 ? "Step" : "Steps"} ${named.join(", ")} failed; the other steps were done.`;
}

/** The queue gave up on a run (its retries are spent): it ends as failed, with the last error. */
export async function abandonRun(runId: string, error: string): Promise<void> {
  const run = await db().playbookRun.findUnique({ where: { id: runId }, select: { incidentId: true, status: true, leaseUntil: true } });
  // Another worker holds a live lease (this job's own ran out and it took over): the run is its.
  if (run?.leaseUntil && run.leaseUntil > new Date()) return;
  if (run && (run.status === "queued" || run.status === "running")) await finish(runId, run.incidentId, "failed", `Gave up after ${PLAYBOOK_ATTEMPTS} attempts: ${error}`.slice(0, 500));
}

/**
 * Runs that should be moving but have no live worker (a job lost between the run's row and the
 * queue, or a worker that died after its retries): queued again. A duplicate job is harmless: it
 * finds the run busy or finished.
 */
export async function requeueStalledRuns(): Promise<number> {
  const stalled = await db().playbookRun.findMany({
    where: { status: { in: ["queued", "running"] }, queuedAt: { lt: new Date(Date.now() - 60_000) }, OR: [{ leaseUntil: null }, { leaseUntil: { lt: new Date() } }] },
    select: { id: true },
    take: 100,
  });
  for (const run of stalled) await enqueuePlaybookRun(run.id);
  return stalled.length;
}

async function attempt(step: Step, targets: IncidentTargets, ctx: AuditContext, deliveryId: string, playbookName: string): Promise<ActionResult> {
  try {
    return await performAction(step, targets, ctx, { dryRun: false, deliveryId, reason: `playbook "${playbookName}"` });
  } catch (error) {
    return { status: "failed", detail: error instanceof Error ? error.message : String(error) };
  }
}

/** Stores a step's result once; with it, the run's attempts start again for its next step (one transaction: a crash between would leave the next step the spent count). */
async function recordStep(runId: string, owner: string, incidentId: string, index: number, step: Step, result: ActionResult, playbookName: string) {
  const [stored] = await db().$transaction([
    db().playbookStepResult.createMany({
      data: [{ runId, index, kind: step.kind, status: result.status, detail: result.detail, data: (result.data ?? {}) as Prisma.InputJsonObject }],
      skipDuplicates: true,
    }),
    // This claim is the next step's first attempt.
    db().playbookRun.updateMany({ where: { id: runId, leaseOwner: owner }, data: { stepAttempts: 1 } }),
  ]);
  if (!stored.count) return;
  await db().incidentEvent.create({ data: { incidentId, kind: "action", text: `${STEP_LABELS[step.kind]}: ${result.detail}`, data: { runId, step: index + 1, status: result.status, playbook: playbookName } } });
  await audit(SYSTEM_CONTEXT, {
    type: "incident", action: "incident.playbook.step", outcome: result.status === "failed" ? "failure" : "success", resource: { type: "incident", id: incidentId },
    metadata: { runId, playbook: playbookName, step: index + 1, kind: step.kind, critical: step.critical, status: result.status, detail: result.detail },
  });
}

async function finish(runId: string, incidentId: string, status: "succeeded" | "failed" | "cancelled", detail: string): Promise<RunOutcome> {
  const { count } = await db().playbookRun.updateMany({ where: { id: runId, status: { in: ["queued", "running"] } }, data: { status, finishedAt: new Date(), leaseUntil: null, leaseOwner: null } });
  // Only the worker that moved the run out of "running" reports it: the end is recorded once.
  if (count) {
    await db().incidentEvent.create({ data: { incidentId, kind: "playbook", text: `Playbook run ${status}: ${detail}`, data: { runId } } });
    await audit(SYSTEM_CONTEXT, { type: "incident", action: "incident.playbook.finish", outcome: status === "failed" ? "failure" : "success", resource: { type: "incident", id: incidentId }, metadata: { runId, status, detail } });
  }
  return { state: "finished" };
}

export type RetryRefusal = "not_retryable" | "incident_closed" | "acts_on_accounts_you_cannot" | "playbook_changed";

/**
 * A responder runs a failed or cancelled run of this incident again (the cause is fixed: a channel
 * that now reaches someone): the steps that failed or never ran run, those done stay done (a run
 * whose only failure was a notification sends it, and revokes nothing twice). Refused on a closed
 * incident, and when the steps still to run act on an account the responder may not act on
 * (actingOnRefusal, as for a one-click response). The responder's reason is on its audit event.
 */
export async function retryRun(runId: string, incidentId: string, responder: Granter, ctx: AuditContext): Promise<{ ok: true } | { ok: false; refusal: RetryRefusal }> {
  const run = await db().playbookRun.findFirst({ where: { id: runId, incidentId, status: { in: ["failed", "cancelled"] } }, include: { steps: { select: { index: true, status: true } } } });
  if (!run) return { ok: false, refusal: "not_retryable" };
  const [targets, playbook] = await Promise.all([incidentTargets(incidentId, run.alertId), playbookVersion(run.playbookId, run.version)]);
  if (!targets || !playbook) return { ok: false, refusal: "not_retryable" };
  // An admin changed or switched off the playbook since: its old steps are not run again by hand.
  const newest = await db().playbookVersion.findFirst({ where: { playbookId: run.playbookId }, orderBy: { version: "desc" }, select: { version: true, enabled: true } });
  if (newest?.version !== run.version || !newest.enabled) return { ok: false, refusal: "playbook_changed" };
  if (CLOSED_STATUSES.includes(targets.incident.status as IncidentStatus)) return { ok: false, refusal: "incident_closed" };
  const done = new Set(run.steps.filter((step) => step.status !== "failed").map((step) => step.index));
  const toRun = playbook.steps.filter((_, index) => !done.has(index));
  if (toRun.some((step) => ACCOUNT_STEPS.has(step.kind))) {
    const { refused } = await usersActedOn(targets, responder, "incident.playbook.retry", ctx);
    if (refused.length) return { ok: false, refusal: "acts_on_accounts_you_cannot" };
  }
  const requeued = await db().$transaction(async (tx) => {
    const { count } = await tx.playbookRun.updateMany({ where: { id: runId, status: { in: ["failed", "cancelled"] } }, data: { status: "queued", queuedAt: new Date(), attempts: 0, stepAttempts: 0, finishedAt: null, leaseUntil: null, leaseOwner: null } });
    if (count) await tx.playbookStepResult.deleteMany({ where: { runId, status: "failed" } });
    return count > 0;
  });
  if (!requeued) return { ok: false, refusal: "not_retryable" };
  await db().incidentEvent.create({ data: { incidentId, kind: "playbook", actorId: actingUserId(ctx), text: `Playbook "${playbook.name}" run again: ${toRun.map((step) => STEP_LABELS[step.kind]).join(", ")}`, data: { runId } } });
  await audit(ctx, { type: "incident", action: "incident.playbook.retry", outcome: "success", resource: { type: "incident", id: incidentId }, metadata: { runId, playbook: playbook.name, steps: toRun.map((step) => step.kind) } });
  await enqueuePlaybookRun(runId);
  return { ok: true };
}

/** What a playbook would do to an incident now: nothing is changed; the dry run itself is audited. */
export async function dryRunPlaybook(playbookId: string, incidentId: string, ctx: AuditContext) {
  const playbook = await findPlaybook(playbookId);
  if (!playbook) return null;
  // On whom a real run would act: a run starts from an alert and acts on its user and address
  // (here the incident's latest alert), not on every one the incident has gathered.
  const latest = await db().alert.findFirst({ where: { incidentId }, orderBy: { createdAt: "desc" }, select: { id: true } });
  const targets = await incidentTargets(incidentId, latest?.id ?? null);
  if (!targets) return null;
  const steps = [];
  for (const [index, step] of playbook.current.steps.entries()) {
    steps.push({ index, kind: step.kind, critical: step.critical, ...(await performAction(step, targets, ctx, { dryRun: true, deliveryId: `dry-run:${index}`, reason: "dry run" })) });
  }
  await audit(ctx, { type: "incident", action: "incident.playbook.dry_run", outcome: "success", resource: { type: "playbook", id: playbookId }, metadata: { incident: targets.incident.number, version: playbook.current.version } });
  return { playbook: playbook.current, incident: targets.incident, steps };
}

/** Runs still queued or running that were queued before `cutoff` (made, or run again): stuck ones (SOC 2 CC7.4). */
export function countUnfinishedRuns(cutoff: Date): Promise<number> {
  return db().playbookRun.count({ where: { status: { in: ["queued", "running"] }, queuedAt: { lt: cutoff } } });
}

/**
 * Runs that ended failed since `since`: an automated response that did not happen (SOC 2 CC7.4).
 * Counted from the audit trail's incident.playbook.finish events, not the runs' rows: a retry sets
 * its run back to queued, which must not make the failure vanish from the record.
 */
export function countFailedRuns(since: Date): Promise<number> {
  return countAuditEvents({ action: "incident.playbook.finish", outcome: "failure", from: since });
}
