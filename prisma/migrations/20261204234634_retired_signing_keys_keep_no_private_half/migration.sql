-- AlterTable
ALTER TABLE "oidc_signing_keys" ALTER COLUMN "private_jwk_cipher" DROP NOT NULL;

-- Keys retired before: their private halves go too.
UPDATE "oidc_signing_keys" SET "private_jwk_cipher" = NULL WHERE "state" = 'retired';
