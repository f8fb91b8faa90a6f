-- AlterTable
ALTER TABLE "oauth_consents" ADD COLUMN     "remembered" BOOLEAN NOT NULL DEFAULT true;
