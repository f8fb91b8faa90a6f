// `npm run bench`: the audit-trail and OIDC token-endpoint benchmarks against a real PostgreSQL.
//
// Creates a fresh database gatehouse_bench_<timestamp> (on BENCH_DATABASE_ADMIN_URL, default
// postgresql://postgres@127.0.0.1:5432/postgres), applies the migrations, generates throwaway
// secrets, runs bench/audit.ts, bench/risk.ts, bench/policy.ts and bench/oidc.ts (BENCH_ONLY=audit|risk|policy|oidc for one) and prints the
// results table; drops the database at the end unless BENCH_KEEP=1. See bench/README.md for the
// knobs and what each figure means.
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import pg from "pg";
import { applyMigrations } from "../lib/db/migrate";
import { generateSecrets } from "../lib/local-secrets";
import { renderMarkdown, renderTable, type Row } from "./stats";
import { avoidWasmDeoptCrash } from "../lib/util/v8-workaround";

// This process hosts the provider and the decision point (Cedar) as the server does.
avoidWasmDeoptCrash();

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const KEEP = process.env.BENCH_KEEP === "1";

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw.replaceAll("_", ""));
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
}

async function admin<T extends pg.QueryResultRow>(sql: string, url = ADMIN_URL): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function machine(pgVersion: string) {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  const cpuCount = (cpuinfo.match(/^processor\s*:/gm) ?? []).length || os.cpus().length;
  const memKb = Number(/^MemTotal:\s*(\d+) kB$/m.exec(meminfo)?.[1] ?? os.totalmem() / 1024);
  return { cpu: `${cpuModel} × ${cpuCount}`, ram: `${(memKb / 1024 / 1024).toFixed(1)} GiB`, postgres: pgVersion, node: process.version };
}

const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
const dbName = `gatehouse_bench_${stamp}`;
const dbUrl = new URL(ADMIN_URL);
dbUrl.pathname = `/${dbName}`;
let created = false;

async function dropDatabase() {
  if (!created || KEEP) return;
  created = false;
  try {
    const { db } = await import("../lib/db/client");
    await db().$disconnect();
  } catch {
    // not connected yet
  }
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  console.log(`Dropped database ${dbName}.`);
}

process.once("SIGINT", () => {
  console.error("\nInterrupted.");
  void dropDatabase().finally(() => process.exit(130));
});

async function main() {
  const config = {
    events: intEnv("BENCH_EVENTS", 1_000_000),
    writers: intEnv("BENCH_WRITERS", 16),
    writeSeconds: intEnv("BENCH_WRITE_SECONDS", 10),
    writeMaxEvents: intEnv("BENCH_WRITE_EVENTS", 200_000),
    fillConcurrency: intEnv("BENCH_FILL_CONCURRENCY", 2_000),
    searchQueries: intEnv("BENCH_SEARCH_QUERIES", 50),
    exportSmall: intEnv("BENCH_EXPORT_SMALL", 100_000),
    exportLarge: intEnv("BENCH_EXPORT_LARGE", 400_000),
    verifyRuns: intEnv("BENCH_VERIFY_RUNS", 2),
    diagnose: process.env.BENCH_DIAGNOSE !== "0",
    poolMax: intEnv("BENCH_POOL_MAX", 10),
  };

  const [{ version }] = (await admin<{ version: string }>("SELECT version()")) as [{ version: string }];
  const info = machine(version);
  console.log(`Gatehouse benchmark — ${new Date().toISOString()}`);
  console.log(`CPU ${info.cpu}; RAM ${info.ram}; Node ${info.node}`);
  console.log(info.postgres);
  console.log(`Config: ${JSON.stringify(config)}`);
  const loadStart = os.loadavg();
  console.log(`Load average at start: ${loadStart.map((l) => l.toFixed(2)).join(" ")}${loadStart[0]! > 0.5 ? " (something else is running: figures will be lower)" : ""}`);

  await admin(`CREATE DATABASE ${dbName}`);
  created = true;
  console.log(`Created database ${dbName}${KEEP ? " (kept afterwards: BENCH_KEEP=1)" : ""}.`);
  await applyMigrations(dbUrl.toString());

  // Before any lib module that reads them is imported.
  process.env.DATABASE_URL = dbUrl.toString();
  process.env.DATABASE_POOL_MAX = String(config.poolMax);
  for (const [name, value] of Object.entries(generateSecrets())) process.env[name] = value;

  // BENCH_ONLY=audit, risk, policy, oidc or soak runs one part.
  const only = process.env.BENCH_ONLY;
  const rows: Row[] = [];
  if (only === undefined || only === "audit") {
    const { runAuditBenchmarks } = await import("./audit");
    rows.push(...(await runAuditBenchmarks(config)));
  }
  if (only === undefined || only === "risk") {
    const { runRiskBenchmarks } = await import("./risk");
    rows.push(...(await runRiskBenchmarks({
      users: intEnv("BENCH_RISK_USERS", 200), assessments: intEnv("BENCH_RISK_ASSESSMENTS", 5_000),
      signInSeconds: intEnv("BENCH_SIGNIN_SECONDS", 10), concurrency: intEnv("BENCH_SIGNIN_CONCURRENCY", 4),
    })));
  }
  if (only === undefined || only === "policy") {
    const { runPolicyBenchmarks } = await import("./policy");
    rows.push(...(await runPolicyBenchmarks({ decisions: intEnv("BENCH_PDP_DECISIONS", 20_000), seconds: intEnv("BENCH_PDP_SECONDS", 10), concurrency: intEnv("BENCH_PDP_CONCURRENCY", 16), rate: intEnv("BENCH_PDP_RATE", 5000) })));
  }
  if (only === undefined || only === "oidc") {
    const { runOidcBenchmarks } = await import("./oidc");
    rows.push(...(await runOidcBenchmarks({ seconds: intEnv("BENCH_OIDC_SECONDS", 10), concurrency: intEnv("BENCH_OIDC_CONCURRENCY", 16) })));
  }

  // The soak (issue 10's ten minutes of mixed traffic) runs only when asked for: BENCH_ONLY=soak.
  if (only === "soak") {
    const { runSoakBenchmark } = await import("./soak");
    rows.push(...(await runSoakBenchmark({ seconds: intEnv("BENCH_SOAK_SECONDS", 600), concurrency: intEnv("BENCH_SOAK_CONCURRENCY", 8) })));
  }

  const loadEnd = os.loadavg();
  console.log(`\n${renderTable(rows)}\n`);
  console.log(`Load average at the end: ${loadEnd.map((l) => l.toFixed(2)).join(" ")} (this benchmark alone keeps about 2 busy: Node and one PostgreSQL backend).`);
  const missed = rows.filter((r) => r.pass === false);
  console.log(missed.length ? `${missed.length} target(s) missed: ${missed.map((r) => `${r.section}: ${r.name}`).join("; ")}` : "All targets met.");

  const out = process.env.BENCH_OUT;
  if (out) {
    writeFileSync(`${out}.json`, JSON.stringify({ date: new Date().toISOString(), machine: info, config, load: { start: loadStart, end: loadEnd }, rows }, null, 2));
    writeFileSync(`${out}.md`, `${renderMarkdown(rows)}\n`);
    console.log(`Wrote ${out}.json and ${out}.md`);
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await dropDatabase().catch((error: unknown) => console.error(`Could not drop ${dbName}:`, error));
}
