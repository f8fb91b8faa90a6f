-- AlterTable
ALTER TABLE "oidc_models" ADD COLUMN     "account_id" TEXT,
ADD COLUMN     "client_id" TEXT;

-- The records stored so far: their user and client, from their payload.
UPDATE "oidc_models" SET "account_id" = payload->>'accountId', "client_id" = payload->>'clientId';

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oauth_consents_grant_id_idx" ON "oauth_consents"("grant_id");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_models_kind_account_id_client_id_idx" ON "oidc_models"("kind", "account_id", "client_id");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "oidc_models_kind_client_id_idx" ON "oidc_models"("kind", "client_id");
