import "server-only";
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { db } from "../db/client";
import { decrypt, encrypt } from "../crypto";
import type { SealedField } from "../crypto/reseal";
import { audit, SYSTEM_CONTEXT } from "../audit/context";
import { everyHour } from "../util/hourly";
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
// The copy holds what the trail keeps encrypted (addresses, user agents), so it is stored
// encrypted too, and deleted GATEHOUSE_FORENSIC_SNAPSHOT_RETENTION_DAYS after capture.

const SNAPSHOT_CONTEXT = "incident.forensic_snapshot";
/** Where forensic snapshots are sealed (npm run keys:reseal). */
export const SNAPSHOT_SECRETS: SealedField = { table: "forensic_snapshots", column: "content", id: "id", context: SNAPSHOT_CONTEXT };

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
  const snapshot = await db().forensicSnapshot.create({ data: { incidentId, capturedAt, reason, content: encrypt(content, SNAPSHOT_CONTEXT), sha256 } });
  await db().incidentEvent.create({ data: { incidentId, kind: "evidence", text: `Forensic snapshot captured (${reason}), SHA-256 ${sha256.slice(0, 16)}…`, data: { snapshotId: snapshot.id, sha256 } } });
  await audit(SYSTEM_CONTEXT, { type: "incident", action: "incident.forensics.capture", outcome: "success", resource: { type: "incident", id: incidentId }, metadata: { snapshotId: snapshot.id, sha256, bytes: content.length, reason } });
  return snapshot.id;
}

/**
 * A stored snapshot's canonical JSON (what its SHA-256 is of). Snapshots captured before they were
 * encrypted are JSON as stored (an object's canonical JSON starts with "{"; a sealed value never
 * does) until the retention sweep seals them.
 */
export function snapshotContent(stored: string): string {
  return stored.startsWith("{") ? stored : decrypt(stored, SNAPSHOT_CONTEXT);
}

const DAY_MS = 86_400_000;

/**
 * Deletes snapshots captured more than `days` ago (0 keeps them), audited with their ids. Each
 * incident's timeline keeps its "snapshot captured" entry with the SHA-256, so what was captured
 * stays provable after the copy is gone. Returns how many went.
 */
export async function applySnapshotRetention(days: number, now = new Date()): Promise<number> {
  if (days <= 0) return 0;
  const cutoff = new Date(now.getTime() - days * DAY_MS);
  const deleted = await db().$queryRaw<{ id: string; incidentId: string }[]>`DELETE FROM forensic_snapshots WHERE captured_at < ${cutoff} RETURNING id, incident_id AS "incidentId"`;
  if (deleted.length > 0) {
    await audit(SYSTEM_CONTEXT, {
      type: "incident", action: "incident.forensics.purge", outcome: "success",
      metadata: { days, cutoff: cutoff.toISOString(), purged: deleted.length, snapshots: deleted.slice(0, 500) },
    });
  }
  return deleted.length;
}

/** Seals the snapshots stored in clear before snapshots were encrypted (once per start: none are written so since). Returns how many. */
export async function sealPlaintextSnapshots(): Promise<number> {
  const clear = await db().forensicSnapshot.findMany({ where: { content: { startsWith: "{" } }, select: { id: true, content: true } });
  for (const row of clear) {
    await db().forensicSnapshot.updateMany({ where: { id: row.id, content: row.content }, data: { content: encrypt(row.content, SNAPSHOT_CONTEXT) } });
  }
  return clear.length;
}

/** Seals what is left in clear once, a few minutes after start, and applies the retention hourly in this process. */
export function scheduleSnapshotRetention(days: number): void {
  setTimeout(() => void sealPlaintextSnapshots().catch((error: unknown) => console.error("[incidents] snapshots not sealed:", error instanceof Error ? error.message : error)), 6 * 60_000).unref();
  if (days > 0) everyHour("forensic snapshot retention", 6 * 60_000, () => applySnapshotRetention(days));
}
