import "server-only";
import { db, Prisma } from "../db/client";
import { audit, SYSTEM_CONTEXT } from "../audit/context";
import { CLOSED_STATUSES, INCIDENT_TYPE_LABELS, maxSeverity, severityRank, type Indicator, type Severity } from "./model";
import { RULES, type AlertDraft } from "./rules";

// Alerts into incidents. An alert joins an open incident that shares one of its users or IPs and
// had an alert within the rule's join window; otherwise it opens a new incident. Re-reading the
// same audit event (after a crash) raises nothing twice: (rule, source_seq) is unique.

/** `alreadyRaised`: this event raised it before (read again after a crash); what follows an alert is still due. */
export type RaisedAlert = { alertId: string; incidentId: string; opened: boolean; alreadyRaised: boolean } | null;

export async function raiseAlert(draft: AlertDraft, sourceSeq: bigint, at: Date, joinWindowMinutes: number): Promise<RaisedAlert> {
  const existing = await db().alert.findUnique({ where: { rule_sourceSeq: { rule: draft.rule, sourceSeq } }, select: { id: true, incidentId: true } });
  if (existing) return { alertId: existing.id, incidentId: existing.incidentId, opened: false, alreadyRaised: true };
  if (draft.aggregateByIp && draft.ip && (await addToRecentAlert(draft, sourceSeq, at))) return null;

  const joinable = await joinableIncident(draft, new Date(at.getTime() - joinWindowMinutes * 60_000));
  const incident = joinable ?? (await openIncident(draft, at));
  const severity = maxSeverity(incident.severity as Severity, draft.severity);
  const severityRaised = !!joinable && severityRank(severity) > severityRank(joinable.severity);
  const [inserted] = await db().$queryRaw<{ id: string }[]>`
    INSERT INTO alerts (id, rule, severity, summary, source_seq, last_seq, user_id, ip_address, details, incident_id, created_at, last_seen_at)
    VALUES (gen_random_uuid(), ${draft.rule}, ${draft.severity}, ${draft.summary}, ${sourceSeq}, ${sourceSeq}, ${draft.userId}::uuid, ${draft.ip},
            ${JSON.stringify(draft.details)}::jsonb, ${incident.id}::uuid, ${at}, ${at})
    ON CONFLICT (rule, source_seq) DO NOTHING
    RETURNING id::text`;
  if (!inserted) return null;
  // A new incident got the alert's indicators when it opened.
  if (joinable) await addIndicators(incident.id, draft.indicators, at);
  await db().incident.update({ where: { id: incident.id }, data: { severity, lastAlertAt: at } });
  await db().incidentEvent.create({ data: { incidentId: incident.id, at, kind: "alert", text: `${RULES[draft.rule].label}: ${draft.summary}`, data: { rule: draft.rule, severity: draft.severity, ...draft.details } as Prisma.InputJsonObject } });
  await audit(SYSTEM_CONTEXT, {
    type: "incident", action: "incident.alert", outcome: "success", resource: { type: "incident", id: incident.id },
    metadata: { rule: draft.rule, severity: draft.severity, summary: draft.summary, auditSeq: sourceSeq.toString(), joined: !!joinable },
  });
  if (severityRaised) {
    await db().incidentEvent.create({ data: { incidentId: incident.id, at, kind: "severity", text: `Severity raised from ${joinable.severity} to ${severity}` } });
  }
  return { alertId: inserted.id, incidentId: incident.id, opened: !joinable, alreadyRaised: false };
}

// An alert takes more of the same signal for this long at most; an attack still going after it
// raises a new alert (in the same incident), which starts the playbooks again: a block that ran
// out while the attack went on is put back (a block still in force is left as it is).
const ALERT_ROLLOVER_MS = 6 * 3_600_000;

/** More of the same signal (e.g. failures from one IP) within the window: counted on the open alert. */
async function addToRecentAlert(draft: AlertDraft, sourceSeq: bigint, at: Date): Promise<boolean> {
  const since = new Date(at.getTime() - draft.aggregateByIp!.windowMinutes * 60_000);
  const raisedSince = new Date(at.getTime() - ALERT_ROLLOVER_MS);
  // The incident is as recent as its latest signal, counted or raised: the alert that follows this
  // one (after the rollover) joins it rather than opening another.
  const updated = await db().$executeRaw`
    WITH counted AS (
      UPDATE alerts SET count = count + 1, last_seq = ${sourceSeq}, last_seen_at = ${at}, details = ${JSON.stringify(draft.details)}::jsonb
      WHERE id = (SELECT a.id FROM alerts a JOIN incidents i ON i.id = a.incident_id
                  WHERE a.rule = ${draft.rule} AND a.ip_address = ${draft.ip} AND a.last_seen_at >= ${since} AND a.created_at >= ${raisedSince}
                    AND i.status NOT IN (${Prisma.join(CLOSED_STATUSES)})
                  ORDER BY a.last_seen_at DESC LIMIT 1)
        AND last_seq < ${sourceSeq}
      RETURNING incident_id)
    UPDATE incidents SET last_alert_at = greatest(last_alert_at, ${at}) FROM counted WHERE incidents.id = counted.incident_id`;
  if (updated) return true;
  // Already counted (the event was read before a crash): nothing more to do either.
  const counted = await db().alert.findFirst({ where: { rule: draft.rule, ipAddress: draft.ip, lastSeq: { gte: sourceSeq }, lastSeenAt: { gte: since } }, select: { id: true } });
  return !!counted;
}

async function joinableIncident(draft: AlertDraft, since: Date) {
  const keys = draft.indicators.filter((i) => i.kind === "user" || i.kind === "ip");
  // Nothing to join on (a failed audit chain check): the open incident of its kind takes it, so a
  // broken chain found again each day is one incident, not a new critical one every time.
  if (!keys.length) return db().incident.findFirst({ where: { type: draft.type, status: { notIn: [...CLOSED_STATUSES] } }, orderBy: { lastAlertAt: "desc" } });
  return db().incident.findFirst({
    where: {
      status: { notIn: [...CLOSED_STATUSES] },
      lastAlertAt: { gte: since },
      indicators: { some: { OR: keys.map((k) => ({ kind: k.kind, value: k.value })) } },
    },
    orderBy: { lastAlertAt: "desc" },
  });
}

async function openIncident(draft: AlertDraft, at: Date) {
  const incident = await db().incident.create({
    data: { type: draft.type, title: `${INCIDENT_TYPE_LABELS[draft.type]}: ${draft.summary}`.slice(0, 200), severity: draft.severity, lastAlertAt: at, createdAt: at },
  });
  // Indicators go in with the incident, so an alert re-read after a crash joins this incident.
  await addIndicators(incident.id, draft.indicators, at);
  await db().incidentEvent.create({ data: { incidentId: incident.id, at, kind: "status", text: `Opened (${draft.severity})` } });
  await audit(SYSTEM_CONTEXT, {
    type: "incident", action: "incident.open", outcome: "success", resource: { type: "incident", id: incident.id },
    metadata: { number: incident.number, type: draft.type, severity: draft.severity, title: incident.title },
  });
  return incident;
}

export async function addIndicators(incidentId: string, indicators: Indicator[], at = new Date()): Promise<void> {
  if (!indicators.length) return;
  await db().incidentIndicator.createMany({ data: indicators.map((i) => ({ incidentId, kind: i.kind, value: i.value, firstSeen: at })), skipDuplicates: true });
}
