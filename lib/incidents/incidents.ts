import "server-only";
import { z } from "zod";
import { db, Prisma } from "../db/client";
import { actingUserId, audit, type AuditContext } from "../audit/context";
import { everyPeriod } from "../util/periods";
import { searchTextParam } from "../util/query-string";
import { userEmails, type Granter } from "../auth/users";
import { ACCOUNT_STEPS, incidentTargets, performAction, usersActedOn, type ActionResult } from "./actions";
import { captureSnapshot, snapshotContent } from "./forensics";
import { findResponder } from "./responders";
import { CLOSED_STATUSES, SEVERITIES, STATUSES, type IncidentStatus } from "./model";
import { stepSchema } from "./playbooks";

// The analyst's view of incidents: the list, counts and response times, one incident with its
// timeline, and the changes analysts make (status, assignment, notes, one-click responses).

export const incidentFiltersSchema = z.object({
  status: z.enum([...STATUSES, "active"]).optional().catch(undefined),
  severity: z.enum(SEVERITIES).optional().catch(undefined),
  q: searchTextParam,
});
export type IncidentFilters = z.infer<typeof incidentFiltersSchema>;

/** The incident list shows this many, newest alert first; the filters narrow it. */
export const INCIDENT_LIST_LIMIT = 100;

export async function listIncidents(filters: IncidentFilters, take = INCIDENT_LIST_LIMIT) {
  const where: Prisma.IncidentWhereInput = {
    ...(filters.status === "active" ? { status: { notIn: [...CLOSED_STATUSES] } } : filters.status ? { status: filters.status } : {}),
    ...(filters.severity ? { severity: filters.severity } : {}),
    ...(filters.q ? { OR: [{ title: { contains: filters.q, mode: "insensitive" } }, { indicators: { some: { value: filters.q } } }, ...(/^(INC-)?\d{1,9}$/i.test(filters.q) ? [{ number: Number(filters.q.replace(/\D/g, "")) }] : [])] } : {}),
  };
  const rows = await db().incident.findMany({ where, orderBy: [{ lastAlertAt: "desc" }], take, include: { _count: { select: { alerts: true } } } });
  const assignees = await userEmails(rows.flatMap((r) => (r.assigneeId ? [r.assigneeId] : [])));
  return rows.map((r) => ({ ...r, alertCount: r._count.alerts, assignee: r.assigneeId ? (assignees.get(r.assigneeId) ?? null) : null }));
}

export type IncidentCounts = { bySeverity: Record<string, number>; byStatus: Record<string, number> };

/** Open incidents by severity; all incidents by status. */
export async function incidentCounts(): Promise<IncidentCounts> {
  const [severity, status] = await Promise.all([
    db().incident.groupBy({ by: ["severity"], where: { status: { notIn: [...CLOSED_STATUSES] } }, _count: { _all: true } }),
    db().incident.groupBy({ by: ["status"], _count: { _all: true } }),
  ]);
  return {
    bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, severity.find((r) => r.severity === s)?._count._all ?? 0])),
    byStatus: Object.fromEntries(STATUSES.map((s) => [s, status.find((r) => r.status === s)?._count._all ?? 0])),
  };
}

/** One UTC day (YYYY-MM-DD); the means are null when nothing opened that day was acknowledged or resolved. */
export type ResponseTimePoint = { day: string; opened: number; mttaMinutes: number | null; mttrMinutes: number | null };

const DAY_MS = 86_400_000;

/** Every day of the last `days` (quiet ones too): incidents opened, mean time to acknowledge and to resolve (minutes). */
export async function responseTimes(days = 30, now = new Date()): Promise<{ points: ResponseTimePoint[]; mttaMinutes: number | null; mttrMinutes: number | null }> {
  const since = new Date(now.getTime() - days * DAY_MS);
  // ROLLUP adds the whole period's row (day IS NULL) to the per-day rows: one pass over the table.
  const rows = await db().$queryRaw<{ day: Date | null; opened: bigint; mtta: number | null; mttr: number | null }[]>`
    SELECT to_timestamp(floor(extract(epoch FROM created_at) / 86400) * 86400) AS day, count(*) AS opened,
           avg(extract(epoch FROM acknowledged_at - created_at) / 60) AS mtta,
           avg(extract(epoch FROM resolved_at - created_at) / 60) AS mttr
    FROM incidents WHERE created_at >= ${since} GROUP BY ROLLUP (1) ORDER BY 1 NULLS LAST`;
  const overall = rows.find((r) => r.day === null);
  const round = (v: number | null) => (v === null ? null : Math.round(Number(v) * 10) / 10);
  return {
    points: everyPeriod(
      new Map(rows.flatMap((r) => (r.day ? [[r.day.getTime(), { day: r.day.toISOString().slice(0, 10), opened: Number(r.opened), mttaMinutes: round(r.mtta), mttrMinutes: round(r.mttr) }] as const] : []))),
      since, now, DAY_MS, (start) => ({ day: start.toISOString().slice(0, 10), opened: 0, mttaMinutes: null, mttrMinutes: null }),
    ),
    mttaMinutes: round(overall?.mtta ?? null),
    mttrMinutes: round(overall?.mttr ?? null),
  };
}

/** A critical incident that missed its take-up or containment target (SOC 2 CC7.3), with when it was taken up and contained (null: not yet, or not known). */
export type OverdueCriticalIncident = {
  id: string; number: number; title: string; createdAt: Date; acknowledgedAt: Date | null; containedAt: Date | null;
  overdue: "take_up" | "containment";
};

// A critical incident's handling is judged by its history until a week after its containment
// deadline: the compliance tests run daily, so one taken up or contained late, even by less than
// a day, fails at least one run after it is handled, and stays visible long enough to be reviewed.
const HANDLING_REVIEW_MS = 7 * DAY_MS;
const OPEN_STATUSES: readonly IncidentStatus[] = ["open", "investigating"];

export type HandlingTargets = { takeUpMs: number; containMs: number };

/**
 * Critical incidents that missed a target (SOC 2 CC7.3) as of `now`, oldest first, each with the
 * first target it missed: still not taken up (acknowledged, by a status change or an assignee), or
 * not contained or closed, past its deadline; or, by its history for those opened in the review
 * period, taken up or first contained or closed later than the target after it opened.
 */
export async function listOverdueCriticalIncidents(now: Date, targets: HandlingTargets): Promise<OverdueCriticalIncident[]> {
  const takeUpBy = new Date(now.getTime() - targets.takeUpMs);
  const containBy = new Date(now.getTime() - targets.containMs);
  const incidents = await db().incident.findMany({
    where: {
      severity: "critical",
      OR: [
        { acknowledgedAt: null, status: "open", createdAt: { lt: takeUpBy } },
        { status: { in: [...OPEN_STATUSES] }, createdAt: { lt: containBy } },
        { createdAt: { gte: new Date(containBy.getTime() - HANDLING_REVIEW_MS) } },
      ],
    },
    select: {
      id: true, number: true, title: true, status: true, createdAt: true, acknowledgedAt: true, resolvedAt: true,
      timeline: { where: { kind: "status" }, orderBy: { at: "asc" }, select: { at: true, text: true, data: true } },
    },
    orderBy: { createdAt: "asc" },
  });
  return incidents.flatMap(({ status, resolvedAt, timeline, ...incident }) => {
    const containedAt = firstContained(timeline) ?? resolvedAt;
    const overdue = missedTarget({ ...incident, status, containedAt }, { takeUpBy, containBy }, targets);
    return overdue ? [{ ...incident, containedAt, overdue }] : [];
  });
}

type HandledIncident = { status: string; createdAt: Date; acknowledgedAt: Date | null; containedAt: Date | null };

/** The first target the incident missed: by its state now, or by when it was taken up and contained. */
function missedTarget(incident: HandledIncident, { takeUpBy, containBy }: { takeUpBy: Date; containBy: Date }, targets: HandlingTargets) {
  const { createdAt, acknowledgedAt, containedAt } = incident;
  // Now: still not contained, or still waiting to be taken up, past its deadline.
  const notContained = OPEN_STATUSES.includes(incident.status as IncidentStatus) && createdAt < containBy;
  const notTakenUp = !acknowledgedAt && createdAt < takeUpBy && (incident.status === "open" || notContained);
  // By its history: taken up, or first contained, later than its target after it opened.
  const tookLonger = (at: Date | null, targetMs: number) => !!at && at.getTime() - createdAt.getTime() > targetMs;
  if (notTakenUp || tookLonger(acknowledgedAt, targets.takeUpMs)) return "take_up" as const;
  if (notContained || tookLonger(containedAt, targets.containMs)) return "containment" as const;
  return null;
}

const CONTAINED_STATUSES: readonly string[] = ["contained", ...CLOSED_STATUSES];
const statusMove = z.object({ to: z.string() });

/** When the incident was first contained or closed, from its status changes (null: never, as far as they tell). */
function firstContained(changes: { at: Date; text: string; data: Prisma.JsonValue }[]): Date | null {
  const movedTo = (change: (typeof changes)[number]) =>
    // A change recorded before events kept the move as data says it only in its text: "Status open → contained: …".
    statusMove.safeParse(change.data).data?.to ?? /^Status \w+ → (\w+):/.exec(change.text)?.[1];
  return changes.find((change) => CONTAINED_STATUSES.includes(movedTo(change) ?? ""))?.at ?? null;
}

export async function findIncident(id: string) {
  if (!z.uuid().safeParse(id).success) return null;
  const incident = await db().incident.findUnique({
    where: { id },
    include: {
      alerts: { orderBy: { createdAt: "asc" } },
      indicators: { orderBy: [{ kind: "asc" }, { firstSeen: "asc" }] },
      timeline: { orderBy: { at: "asc" } },
      snapshots: { orderBy: { capturedAt: "asc" }, select: { id: true, capturedAt: true, reason: true, sha256: true } },
      runs: { orderBy: { createdAt: "asc" }, include: { steps: { orderBy: { index: "asc" } } } },
    },
  });
  if (!incident) return null;
  const people = await userEmails([
    ...(incident.assigneeId ? [incident.assigneeId] : []),
    ...incident.indicators.filter((i) => i.kind === "user").map((i) => i.value),
    ...incident.timeline.flatMap((e) => (e.actorId ? [e.actorId] : [])),
  ]);
  const playbooks = await db().playbook.findMany({ where: { id: { in: incident.runs.map((r) => r.playbookId) } }, select: { id: true, name: true } });
  const names = new Map(playbooks.map((p) => [p.id, p.name]));
  return {
    ...incident,
    assignee: incident.assigneeId ? (people.get(incident.assigneeId) ?? null) : null,
    people,
    runs: incident.runs.map((r) => ({ ...r, playbookName: names.get(r.playbookId) ?? "(deleted playbook)" })),
  };
}
export type IncidentDetail = NonNullable<Awaited<ReturnType<typeof findIncident>>>;

/** A forensic snapshot handed out (it holds sessions, sign-ins and decrypted IPs): audited with its hash. */
export async function downloadSnapshot(incidentId: string, snapshotId: string, ctx: AuditContext) {
  if (!z.uuid().safeParse(snapshotId).success) return null;
  const snapshot = await db().forensicSnapshot.findFirst({ where: { id: snapshotId, incidentId } });
  if (!snapshot) return null;
  await audit(ctx, { type: "incident", action: "incident.forensics.download", outcome: "success", resource: { type: "incident", id: incidentId }, metadata: { snapshotId, sha256: snapshot.sha256 } });
  return { ...snapshot, content: snapshotContent(snapshot.content) };
}

const reasonSchema = z.string().trim().min(3, "Give a reason (at least 3 characters).").max(500);

export const statusChangeSchema = z.object({ status: z.enum(STATUSES), reason: reasonSchema });
export const assignSchema = z.object({ assignee: z.union([z.literal(""), z.email().max(254)]), reason: reasonSchema });
export const noteSchema = z.object({ text: z.string().trim().min(1, "Write the note.").max(5_000) });
export const responseActionSchema = z.object({ step: stepSchema, reason: reasonSchema });


export type StatusChangeResult =
  | { ok: true }
  | { ok: false; refusal: "unchanged" }
  | { ok: false; refusal: "closer_is_subject" }
  | { ok: false; refusal: "subjects_beyond_you"; users: string[] };

/**
 * An analyst moves the incident on. Closing it (resolved, false positive) also cancels what is left
 * of its playbook runs (lock, revoke, reset): so it is refused to someone the incident is about
 * (closing their own) and to someone who could not act on the accounts of its users by hand
 * (actingOnRefusal, as for a one-click response). The action asks for a fresh MFA verification too.
 */
export async function changeStatus(incidentId: string, input: z.infer<typeof statusChangeSchema>, changer: Granter, ctx: AuditContext): Promise<StatusChangeResult> {
  const incident = await db().incident.findUnique({ where: { id: incidentId } });
  if (!incident || incident.status === input.status) return { ok: false, refusal: "unchanged" };
  const now = new Date();
  const closing = CLOSED_STATUSES.includes(input.status as IncidentStatus);
  if (closing) {
    const refusal = await closingRefusal(incidentId, { from: incident.status, to: input.status }, changer, ctx);
    if (refusal) return refusal;
  }
  // Conditional on the status read: of two analysts changing it at once, one changes it (and is
  // recorded as moving it from there); the other is told it changed.
  const { count } = await db().incident.updateMany({
    where: { id: incidentId, status: incident.status },
    data: {
      status: input.status,
      // Acknowledged: the first time a person moves it on from "open".
      acknowledgedAt: incident.acknowledgedAt ?? (input.status !== "open" ? now : null),
      resolvedAt: closing ? now : null,
    },
  });
  if (!count) return { ok: false, refusal: "unchanged" };
  // The move is kept as data too: when it was contained or closed is read from here (SOC 2 CC7.3).
  await db().incidentEvent.create({ data: { incidentId, at: now, kind: "status", actorId: actingUserId(ctx), text: `Status ${incident.status} → ${input.status}: ${input.reason}`, data: { from: incident.status, to: input.status } } });
  await audit(ctx, { type: "incident", action: "incident.status", outcome: "success", resource: { type: "incident", id: incidentId }, metadata: { from: incident.status, to: input.status, reason: input.reason } });
  return { ok: true };
}

/** Why `closer` may not close this incident (each refusal audited), or null. */
async function closingRefusal(incidentId: string, move: { from: string; to: string }, closer: Granter, ctx: AuditContext): Promise<StatusChangeResult | null> {
  const subjects = await db().incidentIndicator.findMany({ where: { incidentId, kind: "user" }, select: { value: true } });
  if (subjects.some((subject) => subject.value === closer.id)) {
    await audit(ctx, { type: "incident", action: "incident.status", outcome: "blocked", resource: { type: "incident", id: incidentId }, metadata: { ...move, reason: "closer_is_subject" } });
    return { ok: false, refusal: "closer_is_subject" };
  }
  const targets = await incidentTargets(incidentId);
  if (!targets) return { ok: false, refusal: "unchanged" };
  // Each account refused is audited by actingOnRefusal, as for a one-click response.
  const { refused } = await usersActedOn(targets, closer, "incident.status", ctx);
  return refused.length ? { ok: false, refusal: "subjects_beyond_you", users: refused } : null;
}

export type AssignResult = { ok: true } | { ok: false; error: string };

export async function assignIncident(incidentId: string, input: z.infer<typeof assignSchema>, ctx: AuditContext): Promise<AssignResult> {
  const person = input.assignee ? await findResponder(input.assignee) : null;
  if (input.assignee && !person) return { ok: false, error: `${input.assignee} is not an active analyst or admin.` };
  const incident = await db().incident.findUnique({ where: { id: incidentId } });
  if (!incident) return { ok: false, error: "No such incident." };
  const now = new Date();
  await db().incident.update({ where: { id: incidentId }, data: { assigneeId: person?.userId ?? null, acknowledgedAt: incident.acknowledgedAt ?? (person ? now : null) } });
  await db().incidentEvent.create({ data: { incidentId, at: now, kind: "assignment", actorId: actingUserId(ctx), text: person ? `Assigned to ${person.email}: ${input.reason}` : `Unassigned: ${input.reason}` } });
  await audit(ctx, { type: "incident", action: "incident.assign", outcome: "success", resource: { type: "incident", id: incidentId }, metadata: { assignee: person?.email ?? null, reason: input.reason } });
  return { ok: true };
}

export async function addNote(incidentId: string, input: z.infer<typeof noteSchema>, ctx: AuditContext): Promise<boolean> {
  if (!(await db().incident.findUnique({ where: { id: incidentId }, select: { id: true } }))) return false;
  await db().incidentEvent.create({ data: { incidentId, kind: "note", actorId: actingUserId(ctx), text: input.text } });
  await audit(ctx, { type: "incident", action: "incident.note", outcome: "success", resource: { type: "incident", id: incidentId }, metadata: { length: input.text.length } });
  return true;
}

/**
 * A one-click response by an analyst: the same actions playbooks take, with the analyst's reason.
 * On accounts it reaches only those `responder` may act on (actingOnRefusal: an analyst cannot lock
 * or reset an admin who happens to be on the incident); the others are named in the result.
 */
export async function runResponseAction(incidentId: string, input: z.infer<typeof responseActionSchema>, responder: Granter, ctx: AuditContext): Promise<ActionResult | null> {
  const found = await incidentTargets(incidentId);
  if (!found) return null;
  const { targets, refused } = ACCOUNT_STEPS.has(input.step.kind) ? await usersActedOn(found, responder, `incident.${input.step.kind}`, ctx) : { targets: found, refused: [] };
  let result: ActionResult = targets.users.length || !refused.length
    ? await performAction(input.step, targets, ctx, { dryRun: false, deliveryId: `manual:${crypto.randomUUID()}`, reason: input.reason })
    : { status: "failed", detail: "Nothing done." };
  // Done for some accounts only, it did not do what was asked: a failure, naming who was left out.
  if (refused.length) result = { ...result, status: "failed", detail: `${result.detail} Not applied to ${refused.join(", ")}: only an admin can act on accounts with roles or console access you lack.` };
  await db().incidentEvent.create({ data: { incidentId, kind: "action", actorId: actingUserId(ctx), text: `${input.step.kind.replaceAll("_", " ")} (${result.status}): ${result.detail} Reason: ${input.reason}`, data: { step: input.step, status: result.status } as Prisma.InputJsonObject } });
  await audit(ctx, {
    type: "incident", action: "incident.action", outcome: result.status === "failed" ? "failure" : "success", resource: { type: "incident", id: incidentId },
    metadata: { kind: input.step.kind, status: result.status, detail: result.detail, reason: input.reason },
  });
  return result;
}

/** An analyst asks for a fresh forensic snapshot (e.g. before containment). */
export async function captureNow(incidentId: string, reason: string, ctx: AuditContext): Promise<string | null> {
  const id = await captureSnapshot(incidentId, `requested: ${reason}`);
  if (!id) return null;
  await audit(ctx, { type: "incident", action: "incident.forensics.request", outcome: "success", resource: { type: "incident", id: incidentId }, metadata: { snapshotId: id, reason } });
  return id;
}
