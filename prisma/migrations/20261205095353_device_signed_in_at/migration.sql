-- AlterTable
ALTER TABLE "devices" ADD COLUMN     "signed_in_at" TIMESTAMPTZ(3);

-- Devices a sign-in already reached the app from (a session past every stage) stay known.
UPDATE "devices" d SET "signed_in_at" = d."last_seen_at"
WHERE EXISTS (SELECT 1 FROM "sessions" s WHERE s."device_id" = d."id" AND s."stage" = 'active');
