// `npm run db:migrate`: applies prisma/migrations to DATABASE_URL if set, otherwise to the
// embedded database in GATEHOUSE_DATA_DIR (default ./data). The server also does this when it
// starts; this script is for deployments that migrate as a separate step.
import path from "node:path";
import { EmbeddedDatabaseLockedError, startEmbeddedPostgres } from "../lib/db/embedded";
import { applyMigrations } from "../lib/db/migrate";

const log = (line: string) => console.log(`  ${line}`);

async function migrate(connectionString: string, where: string) {
  console.log(`Migrating ${where}`);
  const { applied } = await applyMigrations(connectionString, { log });
  console.log(applied.length ? `Applied ${applied.length} migration(s).` : "Already up to date.");
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (url) return migrate(url, withoutPassword(url));

  const dataDir = path.resolve(process.env.GATEHOUSE_DATA_DIR || "./data");
  let embedded;
  try {
    embedded = await startEmbeddedPostgres(dataDir);
  } catch (err) {
    if (!(err instanceof EmbeddedDatabaseLockedError)) throw err;
    // PGlite has one writer: a running server owns the folder.
    console.error(
      `The embedded database in ${dataDir} is in use by process ${err.pid}, probably a running Gatehouse server.\n` +
        "Stop it and run this again (the server also applies pending migrations itself when it starts).",
    );
    process.exit(1);
  }
  try {
    await migrate(embedded.connectionString, `the embedded database in ${dataDir}`);
  } finally {
    await embedded.close();
  }
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "DATABASE_URL";
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
