// Integration tests run against the real PostgreSQL: a fresh database per run and per Vitest
// worker (files in one worker run one after another, each worker has its own database), migrated
// once with the same runner the server uses and copied, dropped afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { applyMigrations } from "../../lib/db/migrate";

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

declare module "vitest" {
  export interface ProvidedContext {
    /** One database per worker: the worker whose VITEST_POOL_ID is n uses the n-th. */
    databaseUrls: string[];
  }
}

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function urlOf(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export default async function setup(project: TestProject) {
  const base = `gatehouse_test_${Date.now()}_${randomBytes(3).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${base}`);
  await applyMigrations(urlOf(base));
  const workers = project.config.maxWorkers;
  // A copy of the migrated database costs a file copy, not the migrations again.
  const names = Array.from({ length: workers }, (_, i) => `${base}_w${i + 1}`);
  for (const name of names) await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${base}`);
  project.provide("databaseUrls", names.map(urlOf));
  return async () => {
    for (const name of [base, ...names]) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
}
