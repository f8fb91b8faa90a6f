-- AlterTable
ALTER TABLE "login_attempts" ADD COLUMN     "trusted_at" TIMESTAMPTZ(3);
