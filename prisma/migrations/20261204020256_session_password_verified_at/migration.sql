-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "password_verified_at" TIMESTAMPTZ(3);
