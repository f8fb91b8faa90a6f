-- Single-column filters each get an index ending in seq (bench/README.md, "S2b"): a rare type or
-- resource type no longer costs a bitmap scan of every match plus a sort.
DROP INDEX "audit_events_resource_type_resource_id_seq_idx";
CREATE INDEX "audit_events_type_seq_idx" ON "audit_events"("type", "seq");
CREATE INDEX "audit_events_resource_type_seq_idx" ON "audit_events"("resource_type", "seq");
CREATE INDEX "audit_events_resource_id_seq_idx" ON "audit_events"("resource_id", "seq");
