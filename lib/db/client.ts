import "server-only";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";
import { readConfig } from "../config";

// One client per process. server.ts points DATABASE_URL at the embedded database (pool of
// one) when no external PostgreSQL is configured, so this module never needs to know which.
const globalForPrisma = globalThis as unknown as { gatehousePrisma?: PrismaClient };

function createClient(): PrismaClient {
  const config = readConfig();
  if (!config.DATABASE_URL) {
    throw new Error("DATABASE_URL is not set: start Gatehouse through server.ts (npm start) or set it.");
  }
  const adapter = new PrismaPg({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_MAX });
  return new PrismaClient({ adapter });
}

/** The Prisma client, created on first use (so `next build` never connects). */
export function db(): PrismaClient {
  globalForPrisma.gatehousePrisma ??= createClient();
  return globalForPrisma.gatehousePrisma;
}

export type { PrismaClient };
export { Prisma } from "./generated/client";
export type { Role, User, Session, SessionStage } from "./generated/client";
