// For CLI scripts that use lib/ domains: connects to DATABASE_URL, or opens the embedded database
// (which must not be open in a running server at the same time), with the same secrets the server uses.
import path from "node:path";
import { startEmbeddedPostgres, EmbeddedDatabaseLockedError } from "../lib/db/embedded";
import { markEmbeddedDatabase } from "../lib/db/embedded-flag";
import { applyMigrations } from "../lib/db/migrate";
import { missingSecrets, applyLocalSecrets } from "../lib/local-secrets";

export async function withDatabase(work: () => Promise<void>): Promise<void> {
  let close = async () => {};
  try {
    if (!process.env.DATABASE_URL) {
      const dataDir = path.resolve(process.env.GATEHOUSE_DATA_DIR ?? "./data");
      const embedded = await startEmbeddedPostgres(dataDir);
      close = embedded.close;
      process.env.DATABASE_URL = embedded.connectionString;
      process.env.DATABASE_POOL_MAX = "1";
      markEmbeddedDatabase();
      applyLocalSecrets(dataDir);
    }
    const missing = missingSecrets();
    if (missing.length) throw new Error(`Set ${missing.join(", ")} (the same values as the server).`);
    await applyMigrations(process.env.DATABASE_URL);
    await work();
    const { db } = await import("../lib/db/client");
    await db().$disconnect();
  } catch (error) {
    console.error(error instanceof EmbeddedDatabaseLockedError ? `${error.message}. Stop the server first, or run this against DATABASE_URL.` : error);
    process.exitCode = 1;
  } finally {
    await close();
  }
}
