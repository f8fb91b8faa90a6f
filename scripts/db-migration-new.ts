// `npm run db:migration:new <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql
// with the SQL from the existing migrations to prisma/schema.prisma (offline; see lib/db/migrate.ts).
import path from "node:path";
import { createMigration } from "../lib/db/migrate";

async function main() {
  const name = process.argv.slice(2).join(" ").trim();
  if (!name) {
    console.error("usage: npm run db:migration:new <name>   e.g. npm run db:migration:new add_audit_log");
    process.exit(2);
  }
  const dir = await createMigration(name);
  if (!dir) {
    console.log("No changes: prisma/schema.prisma already matches the migrations. Nothing written.");
    return;
  }
  console.log(`Created ${path.relative(process.cwd(), dir)}/migration.sql`);
  console.log("Review it, then `npm run db:generate` and `npm run db:migrate` (or restart the server).");
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
