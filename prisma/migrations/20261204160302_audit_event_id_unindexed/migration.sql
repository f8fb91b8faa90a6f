-- DropIndex
DROP INDEX "audit_events_id_key";
