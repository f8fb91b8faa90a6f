-- AlterTable
ALTER TABLE "compliance_exceptions" ADD COLUMN     "approved_at" TIMESTAMPTZ(3),
ADD COLUMN     "revoked_by" UUID,
ALTER COLUMN "approved_by" DROP NOT NULL;

-- AlterTable
ALTER TABLE "compliance_runs" ADD COLUMN     "audit_seq" BIGINT;

-- Exceptions granted before approvals existed were approved when they were created.
UPDATE "compliance_exceptions" SET "approved_at" = "created_at" WHERE "approved_by" IS NOT NULL;

-- Runs recorded before this migration: their audit event is the compliance.run event naming them.
UPDATE "compliance_runs" r SET "audit_seq" = e."seq"
FROM "audit_events" e
WHERE e."action" = 'compliance.run' AND e."resource_type" = 'compliance_run' AND e."resource_id" = r."id"::text AND r."audit_seq" IS NULL;
