import "server-only";
import ipaddr from "ipaddr.js";
import { db } from "./client";
import { onEmbeddedDatabase } from "./embedded-flag";

export type DatabaseProtection = "in_process" | "tls" | "this_machine" | "none";

/**
 * How this instance's connection to PostgreSQL is protected and where it goes, as the server
 * reports this very connection (pg_stat_ssl, inet_server_addr: no address for a Unix socket), not
 * as a reading of DATABASE_URL would guess. Behind a pooler (PgBouncer, RDS Proxy) it describes
 * the pooler's connection to PostgreSQL.
 */
export async function databaseTransport(): Promise<{ host: string; protection: DatabaseProtection }> {
  if (onEmbeddedDatabase()) return { host: "embedded", protection: "in_process" };
  // One row whatever pg_stat_ssl holds: no row of its own is no TLS, not "this machine".
  const [row] = await db().$queryRaw<{ ssl: boolean | null; address: string | null }[]>`
    SELECT (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl, host(inet_server_addr()) AS address`;
  const address = row?.address ?? null;
  if (row?.ssl) return { host: address ?? "local socket", protection: "tls" };
  if (!address) return { host: "local socket", protection: "this_machine" };
  const parsed = ipaddr.process(address);
  return { host: address, protection: parsed.range() === "loopback" ? "this_machine" : "none" };
}
