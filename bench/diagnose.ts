// Where the time goes: breakdowns that explain the headline figures. Not targets (pass is
// null). Skipped with BENCH_DIAGNOSE=0. Everything is measured through lib/audit's own
// functions; nothing here re-implements them.
//
// Everything here that writes goes through recordAuditEvent (so appendBatch), so the chain stays
// valid and the final verifyChain covers these events too.
import pg from "pg";
import { db, Prisma } from "../lib/db/client";
import { encrypt } from "../lib/crypto";
import { auditEventSchema } from "../lib/audit/events";
import { encode } from "../lib/audit/export";
import { eventTextHash } from "../lib/audit/hash";
import { recordAuditEvent, SENSITIVE_CONTEXT } from "../lib/audit/record";
import { revealEvent } from "../lib/audit/search";
import type { StoredEventText } from "../lib/audit/chain-range";
import { eventsQuery, readRange, type RecordedEvent } from "../lib/audit/store";
import { eventSource, type Pools } from "./data";
import { fmtMs, fmtRate, rate, summarize, summaryRow, type Row } from "./stats";

const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

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
  return summaryRow(s, {
    section: "diag",
    name,
    n: samples.length,
    throughput: perItem ? rate(perItem.count, s.p50) : undefined,
    unit: perItem?.unit,
    pass: null,
    note,
  });
}

// --- write path ------------------------------------------------------------------------------

async function writePath(pools: Pools, databaseUrl: string): Promise<Row[]> {
  const rows: Row[] = [];
  const next = eventSource(pools, 31);
  const inputs = Array.from({ length: 4_000 }, next);

  // Per-event CPU in this process before anything reaches PostgreSQL: recordAuditEvent validates
  // (zod) synchronously and queues; the sealing (two AES-GCM encryptions, the IP HMAC, canonical
  // JSON) runs in the commit, beside the head lock's round trip (store.ts, appendBatch).
  const zodUs = perCall(4_000, (i) => auditEventSchema.parse(inputs[i]!));
  const encryptUs = perCall(4_000, () => encrypt("203.0.113.5", SENSITIVE_CONTEXT.ip));
  const pending: Promise<RecordedEvent>[] = [];
  const prepareUs = perCall(4_000, (i) => pending.push(recordAuditEvent(inputs[i]!)));
  const [recorded] = await Promise.all(pending);
  const [row] = await readRange(BigInt(recorded!.seq) - BigInt(1), 1);
  const { hash: _hash, ...sample } = row!;
  const hashUs = perCall(4_000, () => eventTextHash(sample));
  const sealUs = 2 * encryptUs;
  log(`diag write: per event in Node — recordAuditEvent's synchronous part ${prepareUs.toFixed(0)} µs (zod ${zodUs.toFixed(0)} µs), sealing ≥ ${sealUs.toFixed(0)} µs (one encrypt ${encryptUs.toFixed(0)} µs, 2 per event), eventTextHash ${hashUs.toFixed(0)} µs`);
  rows.push({ section: "diag", name: "write: Node CPU per event (validate + seal + eventTextHash)", n: 4_000, pass: null, throughput: 1e6 / (prepareUs + sealUs + hashUs), unit: " ev/s", note: `validate ${prepareUs.toFixed(0)} µs (zod ${zodUs.toFixed(0)}), encrypt ${encryptUs.toFixed(0)} ×2, eventTextHash ${hashUs.toFixed(0)} µs` });

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

  // What one group commit costs by its size: `size` recordAuditEvent calls issued in the same
  // turn join one commit (the flush waits a turn, up to 500 per commit), timed until all resolve.
  let offset = 0;
  for (const size of [1, 16, 64, 500]) {
    let commits = 0;
    const samples = await timed(size >= 500 ? 6 : 15, async () => {
      const batch = await Promise.all(Array.from({ length: size }, () => recordAuditEvent(inputs[offset++ % inputs.length]!)));
      commits += new Set(batch.map((e) => e.at)).size;
    });
    const s = summarize(samples);
    log(`diag write: ${size} events per commit p50 ${fmtMs(s.p50)} (prepare included) → ${fmtRate(rate(size, s.p50))}`);
    rows.push(diagRow(`write: ${size} recordAuditEvent call${size === 1 ? "" : "s"} at once (one commit)`, samples, { count: size, unit: " ev/s" }, `ceiling for one writer process at this batch size; ${(commits / samples.length).toFixed(1)} commits per sample`));
  }
  return rows;
}

// --- reading: export (verifyChain reads as COPY instead: chain-range.ts, checkRange) ---------------------------------------------------------

async function readPath(total: number): Promise<Row[]> {
  const rows: Row[] = [];
  const start = BigInt(Math.max(0, Math.floor(total / 2)));
  let fetched: StoredEventText[] = [];
  const readMs = await timed(5, async () => (fetched = await readRange(start, 10_000)));
  rows.push(diagRow("read: readRange(10,000) as the export reads", readMs, { count: 10_000, unit: " rows/s" }, "every column as text over node-postgres"));

  // readRange's statement, measured inside PostgreSQL only (no transfer); count(page.*) makes it
  // compute every column, which count(*) would let it skip.
  const sqlMs = await timed(5, () => db().$queryRaw`SELECT count(page.*) FROM (${eventsQuery(Prisma.sql`AND seq > ${start}`, "asc", 10_000)}) page`);
  rows.push(diagRow("read: the same SQL server-side only (count of result)", sqlMs, { count: 10_000, unit: " rows/s" }, "index scan, to_char, casts to text"));

  const hashMs = await timed(3, async () => {
    for (const row of fetched) {
      const { hash: _hash, ...chained } = row;
      eventTextHash(chained);
    }
  });
  rows.push(diagRow("read: eventTextHash over 10,000 fetched rows", hashMs, { count: 10_000, unit: " ev/s" }, "the reference serialiser + SHA-256 (verification uses it only for rows with escapes)"));

  const slice = fetched.slice(0, 5_000);
  const revealMs = await timed(3, async () => slice.map(revealEvent));
  rows.push(diagRow("export: revealEvent over 5,000 rows", revealMs, { count: 5_000, unit: " rows/s" }, "2 AES-GCM decryptions per row"));
  const revealed = slice.map(revealEvent);
  const csvMs = await timed(3, async () => encode(revealed, "csv", true));
  rows.push(diagRow("export: CSV of 5,000 revealed rows", csvMs, { count: 5_000, unit: " rows/s" }, "encode() in export.ts (lib/util/csv.ts)"));
  const jsonlMs = await timed(3, async () => encode(revealed, "jsonl", true));
  rows.push(diagRow("export: JSON lines of 5,000 revealed rows", jsonlMs, { count: 5_000, unit: " rows/s" }, "encode() in export.ts"));
  for (const r of rows) log(`diag ${r.name}: p50 ${fmtMs(r.p50)}${r.throughput ? ` (${fmtRate(r.throughput, r.unit)})` : ""}`);
  return rows;
}

export async function runDiagnostics(pools: Pools, total: number): Promise<Row[]> {
  const databaseUrl = process.env.DATABASE_URL!;
  return [...(await writePath(pools, databaseUrl)), ...(await readPath(total))];
}
