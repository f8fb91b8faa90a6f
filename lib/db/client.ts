import "server-only";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { Prisma, PrismaClient } from "./generated/client";
import { readConfig } from "../config";

// One client per process. server.ts points DATABASE_URL at the embedded database (pool of
// one) when no external PostgreSQL is configured, so this module never needs to know which.
// Prisma and the job queue (pg-boss, lib/incidents) share one pool: on the embedded database
// there is only one connection to share.
const globalForPrisma = globalThis as unknown as { gatehousePrisma?: PrismaClient; gatehousePool?: pg.Pool };

/** The process's PostgreSQL pool, created on first use (so `next build` never connects). */
export function pgPool(): pg.Pool {
  if (globalForPrisma.gatehousePool) return globalForPrisma.gatehousePool;
  const config = readConfig();
  if (!config.DATABASE_URL) {
    throw new Error("DATABASE_URL is not set: start Gatehouse through server.ts (npm start) or set it.");
  }
  // A caller that waits half a minute for a connection fails rather than hangs (Prisma's own
  // transactions gave up after 10 s; the audit writer takes connections from here directly).
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_MAX, connectionTimeoutMillis: 30_000 });
  // An idle connection the server dropped: the pool replaces it; without a listener Node would exit.
  pool.on("error", (error) => console.error("PostgreSQL pool:", error.message));
  // One dropped while checked out between two statements (the audit writer's own transactions, a
  // restart of PostgreSQL) would exit Node the same way: its holder's next statement fails
  // instead, and the pool discards it on release.
  pool.on("connect", (client) => client.on("error", (error) => console.error("PostgreSQL connection:", error.message)));
  globalForPrisma.gatehousePool = pool;
  return globalForPrisma.gatehousePool;
}

/**
 * Runs `work` in a transaction on one connection of the pool, on node-postgres rather than a Prisma
 * interactive transaction (which costs twice as much per commit: bench/README.md, W2), and commits
 * what it did. `work` sends BEGIN itself, with its first statements in one message where it can
 * (a round trip is dear on the audit writer's path). If it throws, the transaction is rolled back,
 * and a connection that cannot even roll back is dropped rather than handed to the next caller.
 */
export async function inPgTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pgPool().connect();
  try {
    const result = await work(client);
    await client.query("COMMIT");
    client.release();
    return result;
  } catch (error) {
    const broken = await client.query("ROLLBACK").then(() => undefined, (rollbackError: Error) => rollbackError);
    client.release(broken);
    throw error;
  }
}

/**
 * The name for a hot statement, so that each connection parses and plans it once, or undefined
 * (planned on every run) when DATABASE_PREPARED_STATEMENTS is off: a pooler in transaction mode
 * would send the statement to a server connection that never prepared it.
 */
export const preparedName = (name: string): string | undefined => (readConfig().DATABASE_PREPARED_STATEMENTS === "on" ? name : undefined);

/** The Prisma client, created on first use. */
export function db(): PrismaClient {
  globalForPrisma.gatehousePrisma ??= new PrismaClient({ adapter: new PrismaPg(pgPool()) });
  return globalForPrisma.gatehousePrisma;
}

export type { PrismaClient };
export { Prisma } from "./generated/client";

/** A unique constraint refused the row: the same thing done twice at once, or already there. */
export const isUniqueViolation = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
export type { Role, User, Session, SessionStage, OAuthClient, LoginAttempt } from "./generated/client";
