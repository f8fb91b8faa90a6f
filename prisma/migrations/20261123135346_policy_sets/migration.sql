-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "risk_score" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "policy_versions" (
    "version" SERIAL NOT NULL,
    "text" TEXT NOT NULL,
    "comment" TEXT NOT NULL,
    "author_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "restored_from" INTEGER,

    CONSTRAINT "policy_versions_pkey" PRIMARY KEY ("version")
);

-- CreateTable
CREATE TABLE "policy_drafts" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "text" TEXT NOT NULL,
    "base_version" INTEGER NOT NULL,
    "updated_by" UUID,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "policy_drafts_pkey" PRIMARY KEY ("id")
);
