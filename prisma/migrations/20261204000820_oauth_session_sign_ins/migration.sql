-- DropForeignKey
ALTER TABLE "oauth_grant_sign_ins" DROP CONSTRAINT "oauth_grant_sign_ins_session_id_fkey";

-- DropTable
DROP TABLE "oauth_grant_sign_ins";

-- CreateTable
CREATE TABLE "oauth_session_sign_ins" (
    "provider_session_uid" TEXT NOT NULL,
    "session_id" UUID NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "oauth_session_sign_ins_pkey" PRIMARY KEY ("provider_session_uid")
);

-- CreateIndex
CREATE INDEX "oauth_session_sign_ins_session_id_idx" ON "oauth_session_sign_ins"("session_id");

-- AddForeignKey
ALTER TABLE "oauth_session_sign_ins" ADD CONSTRAINT "oauth_session_sign_ins_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
