-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "cookie_generation" INTEGER NOT NULL DEFAULT 0;
