import "server-only";
import { db } from "../db/client";
import { inTurn } from "./chain-turns";
import { SYSTEM_ACTOR } from "./events";
import { recordAuditEvent } from "./record";
import { insertCheckpoint } from "./store";
import { takeIndexerTurn } from "./text-index";

const DAY_MS = 86_400_000;

/**
 * The one controlled way events leave the log: everything older than `olderThan`. First a signed
 * checkpoint of the newest event to be removed (so the chain stays verifiable from the first
 * remaining event), then the delete, with the trigger's purge switch on for this transaction only.
 */
export async function purgeAuditEvents(olderThan: Date): Promise<{ purged: number; anchorSeq: string | null }> {
  return inTurn(() => db().$transaction(async (tx) => {
    // The indexer's turn first (no entries added for events being removed), then the head lock,
    // which keeps writers (and other instances' purges) out while the anchor is chosen: the order
    // the test reset takes them in too.
    await takeIndexerTurn(tx);
    await tx.$queryRaw`SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE`;
    // Only a purge's checkpoint may anchor a chain whose older events are gone, and a sequence
    // number has one checkpoint: an event that already has another kind (periodic, key rotation)
    // cannot be the anchor, so the purge stops one event short of it.
    const [anchor] = await tx.$queryRaw<{ seq: bigint; hash: string }[]>`
      SELECT seq, hash FROM audit_events e WHERE at < ${olderThan}
        AND NOT EXISTS (SELECT 1 FROM audit_checkpoints c WHERE c.seq = e.seq AND c.reason <> 'purge')
      ORDER BY seq DESC LIMIT 1`;
    if (!anchor) return { purged: 0, anchorSeq: null };
    await insertCheckpoint((text, values) => tx.$executeRawUnsafe(text, ...values), anchor.seq, anchor.hash, "purge");
    await tx.$executeRaw`SELECT set_config('gatehouse.audit_purge', 'on', true)`;
    const purged = await tx.$executeRaw`DELETE FROM audit_events WHERE seq <= ${anchor.seq}`;
    await tx.$executeRaw`DELETE FROM audit_event_text WHERE seq <= ${anchor.seq}`;
    return { purged, anchorSeq: anchor.seq.toString() };
  }, { timeout: 120_000 }));
}

/** Applies the retention period (in days) and audits what was removed, if anything. */
export async function applyAuditRetention(days: number, now = new Date()): Promise<{ purged: number; anchorSeq: string | null }> {
  const cutoff = new Date(now.getTime() - days * DAY_MS);
  const result = await purgeAuditEvents(cutoff);
  if (result.purged) {
    await recordAuditEvent({
      type: "admin",
      action: "audit.retention.purge",
      outcome: "success",
      actor: SYSTEM_ACTOR,
      metadata: { days, cutoff: cutoff.toISOString(), purged: result.purged, anchorSeq: result.anchorSeq },
    });
  }
  return result;
}

/** Runs retention now and then daily in this process (every instance may; the head lock serialises them). */
export function scheduleAuditRetention(days: number): void {
  if (days <= 0) return;
  const run = () =>
    applyAuditRetention(days).catch((error: unknown) => console.error("Audit retention failed:", error instanceof Error ? error.message : error));
  void run();
  setInterval(run, DAY_MS).unref();
}
