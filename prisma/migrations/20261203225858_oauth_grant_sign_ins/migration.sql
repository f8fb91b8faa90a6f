-- CreateTable
CREATE TABLE "oauth_grant_sign_ins" (
    "grant_id" TEXT NOT NULL,
    "session_id" UUID NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "oauth_grant_sign_ins_pkey" PRIMARY KEY ("grant_id")
);

-- CreateIndex
CREATE INDEX "oauth_grant_sign_ins_session_id_idx" ON "oauth_grant_sign_ins"("session_id");

-- AddForeignKey
ALTER TABLE "oauth_grant_sign_ins" ADD CONSTRAINT "oauth_grant_sign_ins_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
