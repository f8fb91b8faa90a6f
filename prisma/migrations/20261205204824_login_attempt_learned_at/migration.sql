-- AlterTable
ALTER TABLE "login_attempts" ADD COLUMN     "learned_at" TIMESTAMPTZ(3);

-- Attempts the baselines have learned from so far: sign-ins that reached the app (their session
-- became active) and places an analyst trusted, unless reported since.
UPDATE "login_attempts" a SET "learned_at" = a."at"
WHERE a."reported_at" IS NULL AND a."user_id" IS NOT NULL
  AND (a."trusted_at" IS NOT NULL OR (a."outcome" = 'success' AND EXISTS (SELECT 1 FROM "sessions" s WHERE s."id" = a."session_id" AND s."stage" = 'active')));
