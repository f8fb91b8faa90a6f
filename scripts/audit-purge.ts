// `npm run audit:purge -- <days>`: removes audit events older than <days> (default
// GATEHOUSE_AUDIT_RETENTION_DAYS, else 400) through the controlled, checkpointed path. The server
// also does this daily on its own.
import { withDatabase } from "./with-database";

const days = Number(process.argv[2] ?? process.env.GATEHOUSE_AUDIT_RETENTION_DAYS ?? 400);
if (!Number.isInteger(days) || days < 1) {
  console.error("Usage: npm run audit:purge -- <days, a whole number of at least 1>");
  process.exit(2);
}

await withDatabase(async () => {
  const { applyAuditRetention } = await import("../lib/audit");
  const { purged, anchorSeq } = await applyAuditRetention(days);
  console.log(purged ? `Purged ${purged} events up to sequence ${anchorSeq} (older than ${days} days); checkpoint signed.` : `Nothing older than ${days} days.`);
});
