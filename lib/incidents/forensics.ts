import "server-only";
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { db } from "../db/client";
import { audit, SYSTEM_CONTEXT } from "../audit/context";
import { auditFiltersSchema, searchAuditEvents } from "../audit/search";
import { listActiveSessions } from "../auth/sessions";
import { listConnectedApps } from "../oidc/consents";
import { recentSignIns } from "../risk/reports";
import { FORENSIC_SEVERITY, severityRank } from "./model";
import { incidentTargets } from "./actions";

// Forensic capture: at high severity and above, a frozen copy of what the responders will want
// before anything changes: the affected users' sessions, grants and sign-ins, and the audit events
// of those users and IPs. Stored as canonical JSON (RFC 8785) with its SHA-256, which the capture's
// own audit event also carries, so the copy can be checked against the tamper-evident trail.

export async function captureIfSevere(incidentId: string): Promise<string | null> {
  const incident = await db().incident.findUniqueOrThrow({ where: { id: incidentId }, select: { severity: true, _count: { select: { snapshots: true } } } });
  if (severityRank(incident.severity) < severityRank(FORENSIC_SEVERITY) || incident._count.snapshots > 0) return null;
  return captureSnapshot(incidentId, `severity ${incident.severity}`);
}

/** The snapshot's id, or null when there is no such incident. */
export async function captureSnapshot(incidentId: string, reason: string): Promise<string | null> {
  const targets = await incidentTargets(incidentId);
  if (!targets) return null;
  const users = [];
  for (const user of targets.users) {
    users.push({
      user,
      sessions: await listActiveSessions(user.id),
      grants: await listConnectedApps(user.id),
      signIns: await recentSignIns(user.id, 50),
      auditEvents: (await searchAuditEvents(auditFiltersSchema.parse({ actor: user.id }))).events,
    });
  }
  const ips = [];
  for (const ip of targets.ips) ips.push({ ip, auditEvents: (await searchAuditEvents(auditFiltersSchema.parse({ ip }))).events });
  const capturedAt = new Date();
  const content = canonicalize(JSON.parse(JSON.stringify({ incident: targets.incident, capturedAt, reason, users, ips })))!;
  const sha256 = createHash("sha256").update(content).digest("hex");
  const snapshot = await db().forensicSnapshot.create({ data: { incidentId, capturedAt, reason, content, sha256 } });
  await db().incidentEvent.create({ data: { incidentId, kind: "evidence", text: `Forensic snapshot captured (${reason}), SHA-256 ${sha256.slice(0, 16)}…`, data: { snapshotId: snapshot.id, sha256 } } });
  await audit(SYSTEM_CONTEXT, { type: "incident", action: "incident.forensics.capture", outcome: "success", resource: { type: "incident", id: incidentId }, metadata: { snapshotId: snapshot.id, sha256, bytes: content.length, reason } });
  return snapshot.id;
}
