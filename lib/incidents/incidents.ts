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

/**
 * Critical incidents overdue (SOC 2 CC7.3): nobody took them up (acknowledged, by a status change or
 * an assignee) though opened before `takeUpBy`, or not yet contained or closed though opened before
 * `containBy`. Oldest first, each with what it is overdue for.
 */
export async function listOverdueCriticalIncidents({ takeUpBy, containBy }: { takeUpBy: Date; containBy: Date }) {
  const incidents = await db().incident.findMany({
    where: {
      severity: "critical",
      OR: [
        { acknowledgedAt: null, status: "open", createdAt: { lt: takeUpBy } },
        { status: { in: ["open", "investigating"] }, createdAt: { lt: containBy } },
      ],
    },
    select: { id: true, number: true, title: true, createdAt: true, acknowledgedAt: true },
    orderBy: { createdAt: "asc" },
  });
  return incidents.map(({ acknowledgedAt, ...incident }) => ({
    ...incident,
    overdue: !acknowledgedAt && incident.createdAt < takeUpBy ? ("take_up" as const) : ("containment" as const),
  }));
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


export async function changeStatus(incidentId: string, input: z.infer<typeof statusChangeSchema>, ctx: AuditContext): Promise<boolean> {
  const incident = await db().incident.findUnique({ where: { id: incidentId } });
  if (!incident || incident.status === input.status) return false;
  const now = new Date();
  const closing = CLOSED_STATUSES.includes(input.status as IncidentStatus);
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
  if (!count) return false;
  await db().incidentEvent.create({ data: { incidentId, at: now, kind: "status", actorId: actingUserId(ctx), text: `Status ${incident.status} → ${input.status}: ${input.reason}` } });
  await audit(ctx, { type: "incident", action: "incident.status", outcome: "success", resource: { type: "incident", id: incidentId }, metadata: { from: incident.status, to: input.status, reason: input.reason } });
  return true;
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
