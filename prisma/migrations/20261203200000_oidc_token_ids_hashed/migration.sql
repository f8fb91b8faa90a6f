-- Tokens and codes are bearer credentials: store them under the SHA-256 (hex) of their value and
-- drop the value (jti) from the payload (lib/oidc/adapter.ts looks them up the same way).
UPDATE "oidc_models"
SET "id" = encode(sha256(convert_to("id", 'UTF8')), 'hex'), "payload" = "payload" - 'jti'
WHERE "kind" IN ('AccessToken', 'AuthorizationCode', 'RefreshToken', 'ClientCredentials', 'DeviceCode',
                 'BackchannelAuthenticationRequest', 'RegistrationAccessToken', 'InitialAccessToken');
