import "server-only";
import { readConfig } from "../config";
import { isLoopbackHostname } from "../util/loopback";
import { db } from "./client";
import { onEmbeddedDatabase } from "./embedded-flag";

export type DatabaseProtection = "in_process" | "tls" | "this_machine" | "none";

/**
 * How this instance's connection to PostgreSQL is protected, as the server reports it for this
 * very connection (pg_stat_ssl), and where it goes (the host only: the URL carries the password).
 */
export async function databaseTransport(): Promise<{ host: string; protection: DatabaseProtection }> {
  if (onEmbeddedDatabase()) return { host: "embedded", protection: "in_process" };
  const url = new URL(readConfig().DATABASE_URL!);
  // No host, or ?host=/run/postgresql: a Unix socket.
  const socket = !url.hostname || url.searchParams.get("host")?.startsWith("/");
  const [row] = await db().$queryRaw<{ ssl: boolean | null }[]>`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`;
  if (row?.ssl) return { host: url.host, protection: "tls" };
  return { host: url.host || "local socket", protection: socket || isLoopbackHostname(url.hostname) ? "this_machine" : "none" };
}
