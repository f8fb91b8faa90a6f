// `npm run audit:purge -- <days>`: removes audit events older than <days> (default
// GATEHOUSE_AUDIT_RETENTION_DAYS, else 400) through the controlled, checkpointed path.
import { withDatabase } from "./with-database";

const days = Number(process.argv[2] ?? process.env.GATEHOUSE_AUDIT_RETENTION_DAYS ?? 400);
if (!Number.isInteger(days) || days < 1) {
  console.error("Usage: npm run audit:purge -- <days, a whole number of at least 1>");
  process.exit(2);
}

await withDatabase(async () => {
  const { purgeAuditEvents, recordAuditEvent, SYSTEM_ACTOR } = await import("../lib/audit");
  const cutoff = new Date(Date.now() - days * 86_400_000);
  const { purged, anchorSeq } = await purgeAuditEvents(cutoff);
  await recordAuditEvent({ type: "admin", action: "audit.retention.purge", outcome: "success", actor: SYSTEM_ACTOR, metadata: { days, cutoff: cutoff.toISOString(), purged, anchorSeq } });
  console.log(purged ? `Purged ${purged} events up to sequence ${anchorSeq} (older than ${days} days); checkpoint signed.` : `Nothing older than ${days} days.`);
});
