-- AlterTable
ALTER TABLE "playbook_runs" ADD COLUMN     "lease_owner" TEXT;
