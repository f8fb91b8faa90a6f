-- What an exception excepts, finding by finding: the keys (and labels) each excepted test named
-- when the exception was approved. Exceptions approved before stay null and keep excepting their
-- whole tests (lib/compliance/exceptions.ts).
-- AlterTable
ALTER TABLE "compliance_exceptions" ADD COLUMN     "findings" JSONB;
