-- An event's metadata and policy decisions are kept as the text they were written with: their
-- canonical JSON (RFC 8785), which is exactly what the event's hash covers. Chain verification
-- and exports then read that text as it is instead of parsing and re-serialising it (jsonb
-- keeps its own form). Events written before this keep jsonb's form; verification re-hashes
-- those from their parsed JSON (lib/audit/verify.ts).
ALTER TABLE "audit_events" ALTER COLUMN "metadata" DROP DEFAULT;
ALTER TABLE "audit_events"
  ALTER COLUMN "metadata" TYPE JSON USING "metadata"::json,
  ALTER COLUMN "policy_decisions" TYPE JSON USING "policy_decisions"::json;
ALTER TABLE "audit_events" ALTER COLUMN "metadata" SET DEFAULT '{}';

-- Only events before this one may be in jsonb's form: verification re-hashes those from their
-- parsed JSON, and holds every later event to the exact canonical text it was hashed over.
ALTER TABLE "audit_chain_head" ADD COLUMN "canonical_json_from" BIGINT NOT NULL DEFAULT 1;
UPDATE "audit_chain_head" SET "canonical_json_from" = "seq" + 1;
