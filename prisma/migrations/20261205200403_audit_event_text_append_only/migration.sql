-- The free-text index beside the chain (lib/audit/text-index.ts) is append-only like the events:
-- a row removed from it would hide its event from free-text search (and from an export filtered
-- by words) while the chain still verified. The indexer only inserts; only the retention purge
-- deletes (with gatehouse.audit_purge on, as for the events). Rows removed by someone who bypasses
-- the trigger are found by verification (lib/audit/verify.ts: the index has no gap).
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME IN ('audit_events', 'audit_event_text') AND TG_OP IN ('DELETE', 'TRUNCATE')
     AND current_setting('gatehouse.audit_purge', true) = 'on' THEN
    IF TG_LEVEL = 'ROW' THEN RETURN OLD; END IF;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_event_text_append_only BEFORE UPDATE OR DELETE ON "audit_event_text"
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_event_text_no_truncate BEFORE TRUNCATE ON "audit_event_text"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
