// The offline migration runner (lib/db/migrate.ts) against the real PostgreSQL and against the
// embedded one (lib/db/embedded.ts).
import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedDatabaseLockedError, startEmbeddedPostgres } from "../../lib/db/embedded";
import { applyMigrations, createMigration } from "../../lib/db/migrate";
import { PrismaClient } from "../../lib/db/generated/client";

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const MIGRATIONS_DIR = path.join(process.cwd(), "prisma", "migrations");
const migrationNames = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
// Prisma's checksum: sha256 (hex) of migration.sql as stored.
const checksum = (name: string) =>
  createHash("sha256").update(readFileSync(path.join(MIGRATIONS_DIR, name, "migration.sql"))).digest("hex");

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe("applyMigrations on PostgreSQL", () => {
  const name = `gatehouse_migrate_${randomBytes(6).toString("hex")}`;
  const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();

  beforeAll(() => withClient(ADMIN_URL, (c) => c.query(`CREATE DATABASE ${name}`)));
  afterAll(() => withClient(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));

  it("creates the tables and records each migration as prisma migrate deploy does", async () => {
    expect(migrationNames.length).toBeGreaterThan(0);
    const { applied } = await applyMigrations(url);
    expect(applied).toEqual(migrationNames);

    await withClient(url, async (c) => {
      const tables = await c.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
      );
      expect(tables.rows.map((r) => r.tablename)).toEqual(
        expect.arrayContaining(["_prisma_migrations", "users", "sessions", "password_credentials", "login_attempts"]),
      );
      const rows = await c.query(
        `SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count, logs
           FROM _prisma_migrations ORDER BY migration_name`,
      );
      expect(rows.rows).toHaveLength(migrationNames.length);
      rows.rows.forEach((row, i) => {
        expect(row.migration_name).toBe(migrationNames[i]);
        expect(row.checksum).toBe(checksum(migrationNames[i]!));
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.rolled_back_at).toBeNull();
        expect(row.applied_steps_count).toBe(1);
        expect(row.logs).toBeNull();
      });
    });
  });

  it("applies nothing the second time", async () => {
    expect(await applyMigrations(url)).toEqual({ applied: [] });
    const count = await withClient(url, (c) => c.query("SELECT count(*)::int AS n FROM _prisma_migrations"));
    expect(count.rows[0].n).toBe(migrationNames.length);
  });
});

describe("prisma/migrations", () => {
  it("matches prisma/schema.prisma (else run `npm run db:migration:new <name>`)", async () => {
    // Work on a copy so a difference does not write a migration into the repository.
    const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-migrations-"));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const created = await createMigration("pending", { migrationsDir: dir });
      const sql = created ? readFileSync(path.join(created, "migration.sql"), "utf8") : null;
      expect(sql, "schema.prisma has changes without a migration").toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("embedded PostgreSQL", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-embedded-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("is migrated, serves the Prisma client and keeps its data across restarts", async () => {
    const email = `alice-${randomBytes(3).toString("hex")}@example.com`;

    const first = await startEmbeddedPostgres(dataDir);
    try {
      expect(first.connectionString).toContain(`host=${encodeURIComponent(dataDir)}`); // unix socket
      await expect(startEmbeddedPostgres(dataDir)).rejects.toBeInstanceOf(EmbeddedDatabaseLockedError);
      expect((await applyMigrations(first.connectionString)).applied).toEqual(migrationNames);

      // Each connection starts without prepared statements, as on a server: a named statement
      // (the audit writer's) is prepared again by the next client without being refused.
      for (let i = 0; i < 2; i++) {
        const answer = await withClient(first.connectionString, (client) => client.query({ name: "gatehouse_probe", text: "SELECT $1::int + 1 AS n", values: [i] }));
        expect(answer.rows[0]).toEqual({ n: i + 1 });
      }

      const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: first.connectionString, max: 1 }) });
      try {
        await prisma.user.create({ data: { email, name: "Alice", roles: ["admin"] } });
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      await first.close();
    }

    const second = await startEmbeddedPostgres(dataDir);
    try {
      expect((await applyMigrations(second.connectionString)).applied).toEqual([]);
      const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: second.connectionString, max: 1 }) });
      try {
        const user = await prisma.user.findUnique({ where: { email } });
        expect(user).toMatchObject({ email, name: "Alice", roles: ["admin"] });
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      await second.close();
    }
  });
});
