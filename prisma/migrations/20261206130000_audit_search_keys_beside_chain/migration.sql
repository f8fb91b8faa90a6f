-- The exact-match search keys with random values (actor id and label, the IP's blind index, the
-- resource id) move from the events into the search index beside the chain (lib/audit/text-index.ts),
-- which the indexer fills in bulk a moment after each commit. Keeping four B-trees with random keys
-- up to date was a third of every append's time in PostgreSQL, paid while writers wait; beside the
-- chain it is paid once per indexer run, on another connection. A search first indexes what is
-- pending, so it never misses an event.
ALTER TABLE "audit_event_text"
  ADD COLUMN "actor_id" TEXT,
  ADD COLUMN "actor_label" TEXT,
  ADD COLUMN "ip_hash" TEXT,
  ADD COLUMN "resource_id" TEXT;

-- The rows indexed so far get their keys; the append-only trigger is off for this one statement.
ALTER TABLE "audit_event_text" DISABLE TRIGGER "audit_event_text_append_only";
UPDATE "audit_event_text" t
  SET "actor_id" = e."actor_id", "actor_label" = e."actor_label", "ip_hash" = e."ip_hash", "resource_id" = e."resource_id"
  FROM "audit_events" e WHERE e."seq" = t."seq";
ALTER TABLE "audit_event_text" ENABLE TRIGGER "audit_event_text_append_only";

CREATE INDEX "audit_event_text_actor_id_seq_idx" ON "audit_event_text" ("actor_id", "seq");
CREATE INDEX "audit_event_text_actor_label_seq_idx" ON "audit_event_text" ("actor_label", "seq");
CREATE INDEX "audit_event_text_ip_hash_seq_idx" ON "audit_event_text" ("ip_hash", "seq");
CREATE INDEX "audit_event_text_resource_id_seq_idx" ON "audit_event_text" ("resource_id", "seq");

DROP INDEX "audit_events_actor_id_seq_idx";
DROP INDEX "audit_events_actor_label_seq_idx";
DROP INDEX "audit_events_ip_hash_seq_idx";
DROP INDEX "audit_events_resource_id_seq_idx";
