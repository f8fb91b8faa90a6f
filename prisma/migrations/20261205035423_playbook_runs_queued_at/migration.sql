-- AlterTable
ALTER TABLE "playbook_runs" ADD COLUMN     "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Runs from before were last queued when they were made (or, if run again, later: that moment was not kept).
UPDATE "playbook_runs" SET "queued_at" = "created_at";
