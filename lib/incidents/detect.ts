import "server-only";
import { randomUUID } from "node:crypto";
import { db } from "../db/client";
import { auditEventsAfter, type AuditEventView } from "../audit/search";
import { sourceFailures } from "../risk/attempts";
import { raiseAlert } from "./correlate";
import { captureIfSevere } from "./forensics";
import { audit, SYSTEM_CONTEXT } from "../audit/context";
import { evaluate, type RuleSettings } from "./rules";
import { ruleSettings } from "./rule-settings";
import { startMatchingPlaybooks } from "./runner";
import { queueUserNotice } from "../notices";

// Detection reads the audit trail in order, after a cursor, so every security event every module
// records is seen once, whichever instance recorded it (which is also when the user is sent the
// security notice an event calls for: lib/notices). One instance reads at a time (a lease on
// the cursor row); a reader that dies loses the lease and the next one re-reads from the cursor,
// which raises nothing twice (see correlate.ts).

const BATCH = 200;
const LEASE_SECONDS = 30;
const instance = randomUUID();

export type DetectionPass = { events: number; alerts: number; incidentsOpened: number };

export async function runDetection(): Promise<DetectionPass> {
  const pass: DetectionPass = { events: 0, alerts: 0, incidentsOpened: 0 };
  for (;;) {
    const [cursor] = await db().$queryRaw<{ last_seq: bigint }[]>`
      UPDATE detection_cursor SET lease_until = now() + make_interval(secs => ${LEASE_SECONDS}), lease_owner = ${instance}
      WHERE id = 1 AND (lease_until IS NULL OR lease_until < now() OR lease_owner = ${instance}) RETURNING last_seq`;
    if (!cursor) return pass;
    const events = await auditEventsAfter(cursor.last_seq, BATCH);
    if (!events.length) {
      await db().detectionCursor.updateMany({ where: { id: 1, leaseOwner: instance }, data: { leaseUntil: null } });
      return pass;
    }
    const settings = await ruleSettings();
    for (const event of events) {
      await detectIn(event, settings, pass);
      // Each event moves the cursor and renews the lease; an instance that lost the lease stops.
      const { count } = await db().detectionCursor.updateMany({
        where: { id: 1, leaseOwner: instance },
        data: { lastSeq: BigInt(event.seq), leaseUntil: new Date(Date.now() + LEASE_SECONDS * 1000), updatedAt: new Date() },
      });
      if (!count) return pass;
      pass.events++;
    }
  }
}

// An event that keeps failing is tried this often, then skipped with an audit event saying so:
// one bad event must not stop detection for good.
const MAX_TRIES = 3;
const failures = new Map<string, number>();

async function detectIn(event: AuditEventView, settings: RuleSettings, pass: DetectionPass): Promise<void> {
  // Never throws: a job queue that fails does not cost an event its alerts.
  await queueUserNotice(event);
  try {
    for (const draft of await evaluate(event, settings, { sourceFailures })) {
      const raised = await raiseAlert(draft, BigInt(event.seq), new Date(event.at), settings[draft.rule].joinWindowMinutes);
      if (!raised) continue;
      if (!raised.alreadyRaised) pass.alerts++;
      if (raised.opened) pass.incidentsOpened++;
      // Both are idempotent, so an event read again after a crash completes what it started. The
      // capture first, so it freezes the sessions and grants before a playbook ends them; a capture
      // that fails is recorded and must not cost the alert its playbooks.
      await captureIfSevere(raised.incidentId).catch((error: unknown) =>
        audit(SYSTEM_CONTEXT, {
          type: "incident", action: "incident.forensics.capture", outcome: "failure", resource: { type: "incident", id: raised.incidentId },
          metadata: { error: (error instanceof Error ? error.message : String(error)).slice(0, 300) },
        }),
      );
      await startMatchingPlaybooks(raised.alertId);
    }
    failures.delete(event.seq);
  } catch (error) {
    const tries = (failures.get(event.seq) ?? 0) + 1;
    failures.set(event.seq, tries);
    if (tries < MAX_TRIES) throw error;
    failures.delete(event.seq);
    await audit(SYSTEM_CONTEXT, {
      type: "incident", action: "incident.detection.skip", outcome: "failure",
      metadata: { auditSeq: event.seq, action: event.action, error: (error instanceof Error ? error.message : String(error)).slice(0, 300) },
    });
  }
}
