-- AlterTable
ALTER TABLE "playbook_runs" ADD COLUMN     "step_attempts" INTEGER NOT NULL DEFAULT 0;
