import "server-only";
import { db } from "../db/client";
import { insertCheckpoint } from "./store";

/**
 * The one controlled way events leave the log: everything older than `olderThan`. First a signed
 * checkpoint of the newest event to be removed (so the chain stays verifiable from the first
 * remaining event), then the delete, with the trigger's purge switch on for this transaction only.
 */
export async function purgeAuditEvents(olderThan: Date): Promise<{ purged: number; anchorSeq: string | null }> {
  return db().$transaction(async (tx) => {
    // The head lock keeps writers out while the anchor is chosen.
    await tx.$queryRaw`SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE`;
    const anchor = await tx.auditEvent.findFirst({ where: { at: { lt: olderThan } }, orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
    if (!anchor) return { purged: 0, anchorSeq: null };
    const existing = await tx.auditCheckpoint.findUnique({ where: { seq: anchor.seq } });
    if (!existing) await insertCheckpoint(tx, anchor.seq, anchor.hash, "purge");
    await tx.$executeRaw`SELECT set_config('gatehouse.audit_purge', 'on', true)`;
    const purged = await tx.$executeRaw`DELETE FROM audit_events WHERE seq <= ${anchor.seq}`;
    return { purged, anchorSeq: anchor.seq.toString() };
  }, { timeout: 120_000 });
}
