-- Per-IP sign-in velocity counts an IPv6 address by its /64 (an attacker holding a /64 rotated
-- addresses and never tripped it); lookups go by this key instead of the address.
-- AlterTable
ALTER TABLE "login_attempts" ADD COLUMN IF NOT EXISTS "rate_limit_address" TEXT;

-- Backfill the attempts that can still fall in a velocity window (both the risk engine's and the
-- credential-stuffing rule's are at most a day), in rateLimitAddress's form: an IPv4 address as
-- it is, an IPv6 address as its /64 ("2001:db8:1:2::/64"; PostgreSQL prints the network as
-- ipaddr.js does). Older rows keep NULL: no window reaches them, and rewriting 90 days of attempts
-- would hold the table for nothing. An address PostgreSQL cannot read becomes "unknown", as there.
CREATE FUNCTION pg_temp.rate_limit_address(ip text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE address inet;
BEGIN
  address := ip::inet;
  IF family(address) = 4 THEN RETURN host(address); END IF;
  IF address <<= '::ffff:0.0.0.0/96'::inet THEN RETURN host(('0.0.0.0'::inet + (address - '::ffff:0.0.0.0'::inet))); END IF;
  RETURN network(set_masklen(address, 64))::text;
EXCEPTION WHEN others THEN
  RETURN 'unknown';
END $$;

UPDATE "login_attempts" SET "rate_limit_address" = pg_temp.rate_limit_address("ip_address")
WHERE "ip_address" IS NOT NULL AND "at" > now() - interval '1 day';

-- CreateIndex. IF NOT EXISTS: on a large login_attempts, build it beforehand without blocking
-- sign-ins (CREATE INDEX CONCURRENTLY under this name); this statement then has nothing to do.
CREATE INDEX IF NOT EXISTS "login_attempts_rate_limit_address_at_idx" ON "login_attempts"("rate_limit_address", "at");

-- DropIndex: last, so the table is not held exclusively while the rows above are written.
DROP INDEX IF EXISTS "login_attempts_ip_address_at_idx";
