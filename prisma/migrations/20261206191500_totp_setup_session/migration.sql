-- A pending authenticator-app setup is confirmed only by the session that started it (and saw its
-- secret); setups started before this column have none and confirm as before, for their 30 minutes.
ALTER TABLE "totp_factors" ADD COLUMN "started_by_session_id" UUID;
