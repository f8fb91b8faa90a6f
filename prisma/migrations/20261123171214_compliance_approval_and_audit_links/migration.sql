-- AlterTable
ALTER TABLE "compliance_exceptions" ADD COLUMN     "approved_at" TIMESTAMPTZ(3),
ADD COLUMN     "revoked_by" UUID,
ALTER COLUMN "approved_by" DROP NOT NULL;

-- AlterTable
ALTER TABLE "compliance_runs" ADD COLUMN     "audit_seq" BIGINT;

-- Exceptions granted before approvals existed were approved when they were created.
UPDATE "compliance_exceptions" SET "approved_at" = "created_at" WHERE "approved_by" IS NOT NULL;
