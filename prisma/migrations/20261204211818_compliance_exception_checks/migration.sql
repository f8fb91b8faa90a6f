-- AlterTable
ALTER TABLE "compliance_exceptions" ADD COLUMN     "checks" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Exceptions approved before: every test recorded for their control, as they covered the whole control.
UPDATE "compliance_exceptions" e SET "checks" = ARRAY(SELECT DISTINCT r."check" FROM "compliance_results" r WHERE r.control = e.control ORDER BY 1)
WHERE e.approved_at IS NOT NULL;
