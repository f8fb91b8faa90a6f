// Where the time goes: breakdowns that explain the headline figures, and "what if" runs that
// estimate proposed fixes without touching lib/audit. Not targets (pass is null). Skipped with
// BENCH_DIAGNOSE=0.
//
// Everything here that writes goes through appendBatch, so the chain stays valid and the final
// verifyChain covers these events too.
import { randomUUID } from "node:crypto";
import { stringify } from "csv-stringify/sync";
import pg from "pg";
import { db, Prisma } from "../lib/db/client";
import { encrypt } from "../lib/crypto";
import { auditEventSchema, type AuditEventInput, type StoredEvent } from "../lib/audit/events";
import { eventHash } from "../lib/audit/hash";
import { ipSearchHash, SENSITIVE_CONTEXT } from "../lib/audit/record";
import { revealEvent } from "../lib/audit/search";
import { appendBatch, readRange, STORED_EVENT_JSON, type Unchained } from "../lib/audit/store";
import { eventSource, type Pools } from "./data";
import { fmtMs, fmtRate, rate, summarize, type Row } from "./stats";

const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

/** The same transformation as prepare() in lib/audit/record.ts (not exported there). */
function prepare(input: AuditEventInput): Unchained {
  const e = auditEventSchema.parse(input);
  const ip = e.client?.ip ?? null;
  const userAgent = e.client?.userAgent ?? null;
  return {
    id: randomUUID(),
    type: e.type,
    action: e.action,
    outcome: e.outcome,
    actorType: e.actor.type,
    actorId: e.actor.id ?? null,
    actorLabel: e.actor.label ?? null,
    resourceType: e.resource?.type ?? null,
    resourceId: e.resource?.id ?? null,
    ipCipher: ip ? encrypt(ip, SENSITIVE_CONTEXT.ip) : null,
    ipHash: ip ? ipSearchHash(ip) : null,
    userAgentCipher: userAgent ? encrypt(userAgent, SENSITIVE_CONTEXT.userAgent) : null,
    deviceId: e.client?.deviceId ?? null,
    location: e.client?.location ?? null,
    riskScore: e.riskScore == null ? null : e.riskScore.toFixed(3),
    policyDecisions: e.policyDecisions ?? null,
    metadata: e.metadata,
  };
}

/** Microseconds per call of fn over `n` calls. */
function perCall(n: number, fn: (i: number) => unknown): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t0) * 1000) / n;
}

async function timed(reps: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

function diagRow(name: string, samples: number[], perItem?: { count: number; unit: string }, note?: string): Row {
  const s = summarize(samples);
  return {
    section: "diag",
    name,
    n: samples.length,
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
    throughput: perItem ? rate(perItem.count, s.p50) : undefined,
    unit: perItem?.unit,
    pass: null,
    note,
  };
}

// --- write path ------------------------------------------------------------------------------

async function writePath(pools: Pools, databaseUrl: string): Promise<Row[]> {
  const rows: Row[] = [];
  const next = eventSource(pools, 31);
  const inputs = Array.from({ length: 4_000 }, next);

  // Per-event CPU in this process before anything reaches PostgreSQL.
  const zodUs = perCall(4_000, (i) => auditEventSchema.parse(inputs[i]!));
  const encryptUs = perCall(4_000, () => encrypt("203.0.113.5", SENSITIVE_CONTEXT.ip));
  const prepareUs = perCall(4_000, (i) => prepare(inputs[i]!));
  const sample = { ...prepare(inputs[0]!), seq: "1", at: new Date().toISOString(), prevHash: "0".repeat(64) };
  const hashUs = perCall(4_000, () => eventHash(sample));
  log(`diag write: per event in Node — prepare ${prepareUs.toFixed(0)} µs (zod ${zodUs.toFixed(0)} µs, one encrypt ${encryptUs.toFixed(0)} µs, 2 per event), eventHash ${hashUs.toFixed(0)} µs`);
  rows.push({ section: "diag", name: "write: Node CPU per event (prepare + eventHash)", n: 4_000, pass: null, throughput: 1e6 / (prepareUs + hashUs), unit: " ev/s", note: `prepare ${prepareUs.toFixed(0)} µs (zod ${zodUs.toFixed(0)}, encrypt ${encryptUs.toFixed(0)} ×2) + eventHash ${hashUs.toFixed(0)} µs` });

  // Fixed cost of one interactive transaction like appendBatch's, with nothing to insert.
  const prismaTx = await timed(30, () =>
    db().$transaction(async (tx) => {
      await tx.$queryRaw`SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE`;
      await tx.$executeRaw`UPDATE audit_chain_head SET seq = seq WHERE id = 1 AND false`;
      await tx.$executeRaw`UPDATE audit_chain_head SET seq = seq WHERE id = 1 AND false`;
    }),
  );
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const pgTx = await timed(30, async () => {
    await client.query("BEGIN");
    await client.query("SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE");
    await client.query("UPDATE audit_chain_head SET seq = seq WHERE id = $1 AND false", [1]);
    await client.query("UPDATE audit_chain_head SET seq = seq WHERE id = $1 AND false", [1]);
    await client.query("COMMIT");
  });
  await client.end();
  rows.push(diagRow("write: empty head-lock transaction via Prisma $transaction", prismaTx, undefined, "BEGIN, SELECT … FOR UPDATE, 2 no-op UPDATEs, COMMIT"));
  rows.push(diagRow("write: the same transaction via node-postgres directly", pgTx, undefined, "same statements on one pg.Client"));

  // appendBatch latency by batch size: what one group commit costs.
  let offset = 0;
  for (const size of [1, 16, 64, 500]) {
    const samples = await timed(size >= 500 ? 6 : 15, () => appendBatch(Array.from({ length: size }, () => prepare(inputs[offset++ % inputs.length]!))));
    const s = summarize(samples);
    log(`diag write: appendBatch(${size}) p50 ${fmtMs(s.p50)} (prepare included) → ${fmtRate(rate(size, s.p50))}`);
    rows.push(diagRow(`write: prepare + appendBatch, ${size} events per commit`, samples, { count: size, unit: " ev/s" }, "ceiling for one writer process at this batch size"));
  }

  // What if recordAuditEvent's queue waited one turn of the event loop before flushing (so
  // every caller that is ready joins the batch)? Same appendBatch, same 16 closed-loop writers.
  const queue: { event: Unchained; resolve: (s: StoredEvent) => void; reject: (e: unknown) => void }[] = [];
  let flushing = false;
  const flush = async () => {
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, 500);
        try {
          const stored = await appendBatch(batch.map((p) => p.event));
          batch.forEach((p, i) => p.resolve(stored[i]!));
        } catch (error) {
          batch.forEach((p) => p.reject(error));
        }
      }
    } finally {
      flushing = false;
    }
  };
  const deferredRecord = (input: AuditEventInput) =>
    new Promise<StoredEvent>((resolve, reject) => {
      queue.push({ event: prepare(input), resolve, reject });
      if (!flushing) {
        flushing = true;
        setImmediate(() => void flush());
      }
    });
  const latencies: number[] = [];
  let stop = false;
  let i = 0;
  const timer = setTimeout(() => (stop = true), 5_000);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (!stop) {
        const t0 = performance.now();
        await deferredRecord(inputs[i++ % inputs.length]!);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  clearTimeout(timer);
  const elapsed = performance.now() - started;
  const s = summarize(latencies);
  log(`diag write: what-if deferred flush, 16 writers: ${fmtRate(rate(latencies.length, elapsed))}, p50 ${fmtMs(s.p50)} p99 ${fmtMs(s.p99)}`);
  rows.push({
    section: "diag",
    name: "write: what-if flush deferred by setImmediate, 16 writers",
    n: latencies.length,
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
    throughput: rate(latencies.length, elapsed),
    unit: " ev/s",
    pass: null,
    note: "bench copy of record.ts queue with fix W1; ~16 events per commit",
  });
  return rows;
}

// --- reading: verifyChain and export ---------------------------------------------------------

async function readPath(total: number): Promise<Row[]> {
  const rows: Row[] = [];
  const start = BigInt(Math.max(0, Math.floor(total / 2)));
  let fetched: StoredEvent[] = [];
  const readMs = await timed(5, async () => (fetched = await readRange(start, 10_000)));
  rows.push(diagRow("read: readRange(10,000) as verifyChain calls it", readMs, { count: 10_000, unit: " rows/s" }, "PostgreSQL json_agg + transfer + JSON.parse"));

  const sqlOnly = (jsonb: boolean, orderInAgg: boolean) =>
    timed(5, () =>
      db().$queryRaw`SELECT length(json_agg(e ${orderInAgg ? Prisma.sql`ORDER BY (e->>'seq')::bigint` : Prisma.empty})::text) AS n FROM (
        SELECT ${STORED_EVENT_JSON}${jsonb ? Prisma.sql`::jsonb` : Prisma.empty} AS e FROM audit_events
        WHERE seq > ${start} ORDER BY seq LIMIT 10000) page`,
    );
  rows.push(diagRow("read: the same SQL server-side only (length of result)", await sqlOnly(true, true), { count: 10_000, unit: " rows/s" }, "json_build_object::jsonb, json_agg ORDER BY"));
  rows.push(diagRow("read: what-if no ::jsonb and no ORDER BY in json_agg", await sqlOnly(false, false), { count: 10_000, unit: " rows/s" }, "fix V1; the subquery is already ordered by seq"));

  const hashMs = await timed(3, async () => {
    for (const row of fetched) {
      const { hash: _hash, ...chained } = row;
      eventHash(chained);
    }
  });
  rows.push(diagRow("read: eventHash over 10,000 fetched rows", hashMs, { count: 10_000, unit: " ev/s" }, "canonicalize + SHA-256 in Node"));

  const slice = fetched.slice(0, 5_000);
  const revealMs = await timed(3, async () => slice.map(revealEvent));
  rows.push(diagRow("export: revealEvent over 5,000 rows", revealMs, { count: 5_000, unit: " rows/s" }, "2 AES-GCM decryptions per row"));
  const revealed = slice.map(revealEvent);
  const csvMs = await timed(3, async () =>
    stringify(revealed.map((e) => Object.values(e).map((v) => (typeof v === "object" && v !== null ? JSON.stringify(v) : (v ?? "")))), { escape_formulas: true }),
  );
  rows.push(diagRow("export: csv-stringify of 5,000 revealed rows", csvMs, { count: 5_000, unit: " rows/s" }, "as encode() in export.ts"));
  const jsonlMs = await timed(3, async () => revealed.map((r) => `${JSON.stringify(r)}\n`).join(""));
  rows.push(diagRow("export: JSON lines of 5,000 revealed rows", jsonlMs, { count: 5_000, unit: " rows/s" }));
  for (const r of rows) log(`diag ${r.name}: p50 ${fmtMs(r.p50)}${r.throughput ? ` (${fmtRate(r.throughput, r.unit)})` : ""}`);
  return rows;
}

export async function runDiagnostics(pools: Pools, total: number): Promise<Row[]> {
  const databaseUrl = process.env.DATABASE_URL!;
  return [...(await writePath(pools, databaseUrl)), ...(await readPath(total))];
}
