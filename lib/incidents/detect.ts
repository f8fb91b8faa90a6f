import "server-only";
import { randomUUID } from "node:crypto";
import { db } from "../db/client";
import { auditEventsAfter } from "../audit/search";
import { sourceFailures } from "../risk/attempts";
import { raiseAlert } from "./correlate";
import { captureIfSevere } from "./forensics";
import { evaluate, type DetectionEvent } from "./rules";
import { ruleSettings } from "./rule-settings";
import { startMatchingPlaybooks } from "./runner";

// Detection reads the audit trail in order, after a cursor, so every security event every module
// records is seen once, whichever instance recorded it. One instance reads at a time (a lease on
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
      for (const draft of await evaluate(event as DetectionEvent, settings, { sourceFailures })) {
        const raised = await raiseAlert(draft, BigInt(event.seq), new Date(event.at), settings[draft.rule].joinWindowMinutes);
        if (!raised) continue;
        pass.alerts++;
        if (raised.opened) pass.incidentsOpened++;
        await captureIfSevere(raised.incidentId);
        await startMatchingPlaybooks(raised.incidentId);
      }
      await db().detectionCursor.updateMany({ where: { id: 1, leaseOwner: instance }, data: { lastSeq: BigInt(event.seq), updatedAt: new Date() } });
      pass.events++;
    }
  }
}
