-- Single-column filters each get an index ending in seq (bench/README.md, "S2b"): a rare type or
-- resource type no longer costs a bitmap scan of every match plus a sort.
-- IF NOT EXISTS: on a large trail the indexes can be built beforehand with CREATE INDEX CONCURRENTLY
-- (README, "Migrations"), and this migration then only records them.
DROP INDEX IF EXISTS "audit_events_resource_type_resource_id_seq_idx";
CREATE INDEX IF NOT EXISTS "audit_events_type_seq_idx" ON "audit_events"("type", "seq");
CREATE INDEX IF NOT EXISTS "audit_events_resource_type_seq_idx" ON "audit_events"("resource_type", "seq");
CREATE INDEX IF NOT EXISTS "audit_events_resource_id_seq_idx" ON "audit_events"("resource_id", "seq");
