// The audit-trail benchmarks: group-commit writes, a fill to BENCH_EVENTS, search latency per
// filter, streamed exports with memory sampling, and chain verification. Imported by run.ts
// only after DATABASE_URL and the secrets are in the environment.
import { createHash, randomUUID } from "node:crypto";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { db, Prisma } from "../lib/db/client";
import {
  auditFiltersSchema,
  AUDIT_OUTCOMES,
  AUDIT_TYPES,
  exportAuditEvents,
  findExportManifest,
  recordAuditEvent,
  searchAuditEvents,
  verifyChain,
  type AuditEventInput,
  type ExportFormat,
} from "../lib/audit";
import { filterClause } from "../lib/audit/search";
import { indexCommittedEvents } from "../lib/audit/text-index";
import { eventsQuery } from "../lib/audit/store";
import { runDiagnostics } from "./diagnose";
import { eventSource, FREE_TEXT_TERMS, KIND_LIST, makePools, rng, type Pools } from "./data";
import { fmtBytes, fmtInt, fmtMs, fmtRate, rate, summarize, summaryRow, type Row } from "./stats";

export type BenchConfig = {
  events: number;
  writers: number;
  writeSeconds: number;
  writeMaxEvents: number;
  fillConcurrency: number;
  searchQueries: number;
  exportSmall: number;
  exportLarge: number;
  verifyRuns: number;
  diagnose: boolean;
};

const TARGET = {
  writesPerSecond: 5_000,
  searchP95Ms: 50,
  exportRowsPerSecond: 50_000,
  verifyPerSecond: 200_000,
};

const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

async function headSeq(): Promise<number> {
  const head = await db().auditChainHead.findUniqueOrThrow({ where: { id: 1 } });
  return Number(head.seq);
}

// ---------------------------------------------------------------------------------------------
// (1) Write throughput through recordAuditEvent (group commit)

/** Events committed but not yet in the free-text index (searches compute their words meanwhile). */
async function textIndexLag(): Promise<number> {
  const [row] = await db().$queryRaw<{ lag: bigint }[]>`
    SELECT h.seq - (SELECT coalesce(max(seq), 0) FROM audit_event_text) AS lag FROM audit_chain_head h WHERE h.id = 1`;
  return Number(row?.lag ?? 0);
}

/** Indexes what the background indexer has not yet: how far behind it was, and how long catching up took. */
async function catchUpTextIndex(): Promise<string> {
  const lag = await textIndexLag();
  const t0 = performance.now();
  await indexCommittedEvents();
  return `free-text index ${fmtInt(lag)} events behind, caught up in ${fmtMs(performance.now() - t0)}`;
}

/**
 * What PostgreSQL did for the writes: WAL (and how much of it full-page images, written the first
 * time a page changes after a checkpoint) and the audit table's and indexes' pages read from outside
 * shared buffers. Cluster-wide WAL counters: meaningful on an otherwise quiet server.
 */
async function storageCounters() {
  const [row] = await db().$queryRaw<{ wal_bytes: number; wal_fpi: number; heap_read: number; index_read: number }[]>`
    SELECT (SELECT wal_bytes::float8 FROM pg_stat_wal) AS wal_bytes, (SELECT wal_fpi::float8 FROM pg_stat_wal) AS wal_fpi,
           coalesce(heap_blks_read, 0)::float8 AS heap_read, coalesce(idx_blks_read, 0)::float8 AS index_read
    FROM pg_statio_user_tables WHERE relname = 'audit_events'`;
  const [{ version }] = (await db().$queryRaw<{ version: number }[]>`SELECT current_setting('server_version_num')::int AS version`) as [{ version: number }];
  // PostgreSQL 17 moved the checkpoint counts from pg_stat_bgwriter to pg_stat_checkpointer.
  const [{ checkpoints }] = (await db().$queryRawUnsafe<{ checkpoints: number }[]>(version >= 170000
    ? "SELECT (num_timed + num_requested)::float8 AS checkpoints FROM pg_stat_checkpointer"
    : "SELECT (checkpoints_timed + checkpoints_req)::float8 AS checkpoints FROM pg_stat_bgwriter")) as [{ checkpoints: number }];
  return { ...row!, checkpoints };
}

function storageNote(before: Awaited<ReturnType<typeof storageCounters>>, after: Awaited<ReturnType<typeof storageCounters>>, events: number): string {
  const per = (key: keyof typeof before) => (after[key] - before[key]) / Math.max(events, 1);
  return `per event: WAL ${fmtBytes(per("wal_bytes"))} (${per("wal_fpi").toFixed(2)} full-page images), ${per("index_read").toFixed(2)} index and ${per("heap_read").toFixed(2)} heap pages read into shared buffers; ${after.checkpoints - before.checkpoints} checkpoints`;
}

async function benchWrites(pools: Pools, config: BenchConfig, label: string, seed: number): Promise<Row> {
  // Inputs are drawn before the clock starts, so the figure is the audit module's cost.
  const next = eventSource(pools, seed);
  const ring: AuditEventInput[] = Array.from({ length: 20_000 }, next);
  const startSeq = await headSeq();
  const storageBefore = await storageCounters();
  const latencies: number[] = [];
  let issued = 0;
  let stop = false;
  const timer = setTimeout(() => (stop = true), config.writeSeconds * 1000);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: config.writers }, async () => {
      while (!stop && issued < config.writeMaxEvents) {
        const input = ring[issued++ % ring.length]!;
        const t0 = performance.now();
        await recordAuditEvent(input);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  clearTimeout(timer);
  const endSeq = await headSeq();
  const storage = storageNote(storageBefore, await storageCounters(), endSeq - startSeq);
  // The index is filled beside the writes (lib/audit/text-index.ts): a lag that only grows
  // would mean the writes outran it, so it is reported with the writes.
  const textIndex = await catchUpTextIndex();
  // Events committed together share one timestamp (taken under the chain lock): a close
  // estimate of the group-commit batch size.
  const [batches] = await db().$queryRaw<{ n: bigint }[]>`
    SELECT count(DISTINCT at) AS n FROM audit_events WHERE seq > ${startSeq} AND seq <= ${endSeq}`;
  const s = summarize(latencies);
  const perSecond = rate(latencies.length, elapsed);
  const avgBatch = latencies.length / Number(batches?.n ?? 1);
  log(`writes ${label}: ${fmtInt(latencies.length)} events in ${fmtMs(elapsed)} = ${fmtRate(perSecond)}; latency p50 ${fmtMs(s.p50)} p99 ${fmtMs(s.p99)}; ~${avgBatch.toFixed(1)} events per commit; ${textIndex}; ${storage}`);
  return summaryRow(s, {
    section: "write",
    name: `${config.writers} writers, recordAuditEvent (${label})`,
    n: latencies.length,
    throughput: perSecond,
    unit: " ev/s",
    target: `≥ ${fmtInt(TARGET.writesPerSecond)} ev/s`,
    pass: perSecond >= TARGET.writesPerSecond,
    note: `latency per call; ~${avgBatch.toFixed(1)} events per commit; ${textIndex}; ${storage}`,
  });
}

async function verifyOrDie(context: string) {
  const result = await verifyChain();
  if (!result.ok) {
    throw new Error(`verifyChain FAILED after ${context}: ${result.problem} (first bad seq ${result.firstBadSeq}, ${result.eventsChecked} events checked)`);
  }
  log(`verifyChain OK after ${context}: ${fmtInt(result.eventsChecked)} events, ${result.checkpointsChecked} checkpoints, ${fmtMs(result.durationMs)}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// (2) Fill through the same write path with many calls in flight (batches reach MAX_BATCH = 500)

async function fill(pools: Pools, target: number, concurrency: number): Promise<Row | null> {
  const start = await headSeq();
  const todo = target - start;
  if (todo <= 0) return null;
  log(`fill: ${fmtInt(todo)} events through recordAuditEvent, ${fmtInt(concurrency)} calls in flight…`);
  const next = eventSource(pools, 7);
  const latencies: number[] = new Array<number>(todo);
  let issued = 0;
  let done = 0;
  let lastReport = performance.now();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, todo) }, async () => {
      while (issued < todo) {
        const i = issued++;
        const t0 = performance.now();
        await recordAuditEvent(next());
        latencies[i] = performance.now() - t0;
        done++;
        if (done % 100_000 === 0) {
          const now = performance.now();
          log(`  fill ${fmtInt(start + done)} events (${fmtRate(rate(100_000, now - lastReport))} over the last 100k)`);
          lastReport = now;
        }
      }
    }),
  );
  const elapsed = performance.now() - started;
  const s = summarize(latencies);
  log(`fill: ${fmtInt(todo)} events in ${fmtMs(elapsed)} = ${fmtRate(rate(todo, elapsed))}`);
  return summaryRow(s, {
    section: "fill",
    name: `to ${fmtInt(target)} via recordAuditEvent, ${fmtInt(concurrency)} in flight`,
    n: todo,
    throughput: rate(todo, elapsed),
    unit: " ev/s",
    pass: null,
    note: `same write path (group commit, ≤ 500 per commit); ${fmtMs(elapsed)} total`,
  });
}

// ---------------------------------------------------------------------------------------------
// (3) Search latency: searchAuditEvents exactly as the console calls it (filters through
// auditFiltersSchema, keyset cursor, decrypted page of 50)

type Query = { raw: Record<string, string>; before?: bigint };
type SearchCase = { name: string; make: (i: number) => Query };

async function searchCases(pools: Pools, total: number): Promise<SearchCase[]> {
  const r = rng(99);
  const [span] = await db().$queryRaw<{ min: Date; max: Date }[]>`SELECT min(at) AS min, max(at) AS max FROM audit_events`;
  const minAt = span!.min.getTime();
  const spanMs = Math.max(1, span!.max.getTime() - minAt);
  // Real (resource type, id) pairs and action names, from rows picked at random.
  const seqs = Array.from({ length: 400 }, () => BigInt(1 + r.int(total)));
  const sample = await db().auditEvent.findMany({ where: { seq: { in: seqs }, resourceId: { not: null } }, select: { resourceType: true, resourceId: true } });
  const resources = sample.map((s) => ({ resourceType: s.resourceType!, resourceId: s.resourceId! }));

  const users = pools.userList;
  const heavyUser = () => users[r.int(50)]!; // the most active accounts
  const anyUser = () => users[r.int(users.length)]!;
  const actor = (i: number) => {
    switch (i % 4) {
      case 0: return heavyUser().label;
      case 1: return anyUser().label.toUpperCase(); // the console lowercases labels
      case 2: return anyUser().id;
      default: return r.pick(pools.clients).label;
    }
  };
  const ip = (i: number) => r.pick((i % 2 ? heavyUser() : anyUser()).ips);
  // Ranges are searched address by address (their blind indexes): /20 and /116 are the widest.
  const ipRange = (i: number) => { const address = ip(i); return address.includes(":") ? `${address}/116` : `${address}/${i % 3 ? 24 : 20}`; };
  const window = () => {
    const width = spanMs * (0.01 + r.next() * 0.3);
    const from = minAt + r.next() * (spanMs - width);
    return { from: new Date(from).toISOString(), to: new Date(from + width).toISOString() };
  };
  const allTerms = [...FREE_TEXT_TERMS.common, ...FREE_TEXT_TERMS.medium, ...FREE_TEXT_TERMS.rare];
  const freeText = (i: number) => {
    switch (i % 5) {
      case 3: return anyUser().label;
      case 4: return r.pick(pools.incidents);
      default: return allTerms[i % allTerms.length]!;
    }
  };
  const deep = () => BigInt(1 + r.int(Math.max(1, Math.floor(total * 0.05)))); // oldest 5%
  const combined = (i: number): Record<string, string> => {
    switch (i % 5) {
      case 0: return { type: "authentication", outcome: "failure", ...window() };
      case 1: return { actor: heavyUser().label, type: r.pick(["authentication", "token", "session"]) };
      case 2: return { q: r.pick(FREE_TEXT_TERMS.medium), outcome: r.pick(["failure", "blocked"]) };
      case 3: return { ip: ip(i), outcome: "success", ...window() };
      default: { const k = r.pick(KIND_LIST); return { type: k.type, action: k.action, actor: anyUser().label }; }
    }
  };
  const deepFilter = (i: number): Record<string, string> => {
    switch (i % 4) {
      case 0: return {};
      case 1: return { outcome: r.pick(AUDIT_OUTCOMES) };
      case 2: return { actor: heavyUser().label };
      default: return { type: r.pick(AUDIT_TYPES) };
    }
  };

  return [
    { name: "no filter (newest page)", make: () => ({ raw: {} }) },
    { name: "time range", make: () => ({ raw: window() }) },
    { name: "actor (label or id)", make: (i) => ({ raw: { actor: actor(i) } }) },
    { name: "type", make: (i) => ({ raw: { type: AUDIT_TYPES[i % AUDIT_TYPES.length]! } }) },
    { name: "type + action", make: (i) => { const k = KIND_LIST[i % KIND_LIST.length]!; return { raw: { type: k.type, action: k.action } }; } },
    { name: "action only", make: (i) => ({ raw: { action: KIND_LIST[i % KIND_LIST.length]!.action } }) },
    { name: "outcome", make: (i) => ({ raw: { outcome: AUDIT_OUTCOMES[i % AUDIT_OUTCOMES.length]! } }) },
    { name: "IP", make: (i) => ({ raw: { ip: ip(i) } }) },
    { name: "IP range (/24, /20, /116)", make: (i) => ({ raw: { ip: ipRange(i) } }) },
    { name: "resource (type + id)", make: (i) => ({ raw: resources[i % Math.max(1, resources.length)] ?? { resourceType: "user", resourceId: anyUser().id } }) },
    { name: "resource type only", make: (i) => ({ raw: { resourceType: ["user", "session", "token", "client", "policy", "incident", "report", "audit_export"][i % 8]! } }) },
    { name: "free text", make: (i) => ({ raw: { q: freeText(i) } }) },
    { name: "combined filters", make: (i) => ({ raw: combined(i) }) },
    { name: "deep keyset page (oldest 5%)", make: (i) => ({ raw: deepFilter(i), before: deep() }) },
  ];
}

async function explain(q: Query): Promise<string> {
  const filters = auditFiltersSchema.parse(q.raw);
  const t0 = performance.now();
  const where = await filterClause(filters);
  const clauseMs = performance.now() - t0;
  const cursor = q.before ? Prisma.sql`AND seq < ${q.before}` : Prisma.empty;
  // The statement searchAuditEvents runs (lib/audit/search.ts), under EXPLAIN.
  const plan = await db().$queryRaw<{ "QUERY PLAN": string }[]>`EXPLAIN (ANALYZE, BUFFERS) ${eventsQuery(Prisma.sql`${where} ${cursor}`, "desc", 51)}`;
  return [`  filterClause (time → seq lookups) took ${fmtMs(clauseMs)}`, ...plan.map((p) => `  ${p["QUERY PLAN"]}`)].join("\n");
}

async function benchSearch(pools: Pools, config: BenchConfig): Promise<Row[]> {
  const total = await headSeq();
  const cases = await searchCases(pools, total);
  const rows: Row[] = [];
  const diagnoses: string[] = [];
  for (const c of cases) {
    for (let i = 0; i < 3; i++) await searchAuditEvents(auditFiltersSchema.parse(c.make(1000 + i).raw), c.make(1000 + i).before); // warm-up
    const latencies: number[] = [];
    let returned = 0;
    let slowest: { ms: number; q: Query } = { ms: -1, q: { raw: {} } };
    for (let i = 0; i < config.searchQueries; i++) {
      const q = c.make(i);
      const t0 = performance.now();
      const page = await searchAuditEvents(auditFiltersSchema.parse(q.raw), q.before);
      const ms = performance.now() - t0;
      latencies.push(ms);
      returned += page.events.length;
      if (ms > slowest.ms) slowest = { ms, q };
    }
    const s = summarize(latencies);
    const pass = s.p95 < TARGET.searchP95Ms;
    log(`search ${c.name}: p50 ${fmtMs(s.p50)} p95 ${fmtMs(s.p95)} p99 ${fmtMs(s.p99)} max ${fmtMs(s.max)}; ${(returned / latencies.length).toFixed(1)} rows/page`);
    rows.push(summaryRow(s, {
      section: "search",
      name: c.name,
      n: latencies.length,
      throughput: 1000 / s.mean,
      unit: " q/s",
      target: `p95 < ${TARGET.searchP95Ms} ms`,
      pass,
      note: `${(returned / latencies.length).toFixed(1)} rows/page avg; slowest ${fmtMs(s.max)}`,
    }));
    if (!pass || s.max >= TARGET.searchP95Ms * 2) {
      diagnoses.push(`search "${c.name}" slowest query (${fmtMs(slowest.ms)}): ${JSON.stringify(slowest.q.raw)}${slowest.q.before ? ` before=${slowest.q.before}` : ""}\n${await explain(slowest.q)}`);
    }
  }
  if (diagnoses.length) console.log(`\nEXPLAIN ANALYZE of slow searches (re-run, so caches are warm):\n\n${diagnoses.join("\n\n")}\n`);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// (4) Streamed export: rows/s and memory while streaming into a sink that only counts and hashes

// For a clean baseline, collect garbage before each export.
v8.setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

type ExportResult = { rows: number; ms: number; bytes: number; chunkMs: number[]; rssStart: number; rssPeak: number; heapStart: number; heapPeak: number; heapLive: number; fullGcs: number; heapRetained: number };

/**
 * The most heap that full collections during the run found still in use (V8's GC profiler: what
 * each mark-compact left), or the heap at `fallback` if none ran. What an export holds on to, as
 * against the peak heap, which is mostly garbage V8 has not yet collected and grows with the
 * run's length until V8's heap settles.
 */
function liveHeapOf(profile: v8.GCProfilerResult, fallback: number): { live: number; fullGcs: number } {
  const full = profile.statistics.filter((gc) => gc.gcType === "MarkSweepCompact");
  // Node reports the statistics in camelCase, unlike v8.getHeapStatistics (and @types/node).
  const used = (stats: unknown) => (stats as { usedHeapSize: number }).usedHeapSize;
  return { live: Math.max(fallback, ...full.map((gc) => used(gc.afterGC.heapStatistics))), fullGcs: full.length };
}

async function runExport(format: ExportFormat, rowsWanted: number): Promise<ExportResult> {
  // The newest `rowsWanted` events, selected with a time filter as a person would.
  const head = await headSeq();
  const firstSeq = BigInt(Math.max(1, head - rowsWanted + 1));
  const [start] = await db().$queryRaw<{ at: string }[]>`
    SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at FROM audit_events WHERE seq = ${firstSeq}`;
  const rawFilters = { from: start!.at };

  gc();
  gc();
  const before = process.memoryUsage();
  let rssPeak = before.rss;
  let heapPeak = before.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    if (m.rss > rssPeak) rssPeak = m.rss;
    if (m.heapUsed > heapPeak) heapPeak = m.heapUsed;
  };
  const sampler = setInterval(sample, 5);
  const gcProfiler = new v8.GCProfiler();
  gcProfiler.start();

  const started = performance.now();
  const { id, stream } = await exportAuditEvents({
    actor: { type: "user", id: randomUUID(), label: "bench.exporter@example.com" },
    filters: auditFiltersSchema.parse(rawFilters),
    format,
  });
  const digest = createHash("sha256");
  const chunkMs: number[] = [];
  let bytes = 0;
  let last = performance.now();
  for await (const chunk of stream) {
    digest.update(chunk);
    bytes += chunk.byteLength;
    const now = performance.now();
    chunkMs.push(now - last);
    last = now;
    sample();
  }
  const ms = performance.now() - started;
  clearInterval(sampler);
  sample();
  const gcProfile = gcProfiler.stop();

  const manifest = await findExportManifest(id);
  if (!manifest) throw new Error(`export ${id} finished without a manifest`);
  if (manifest.sha256 !== digest.digest("hex")) throw new Error(`export ${id}: the streamed bytes do not match the manifest's SHA-256`);
  gc();
  gc();
  const heapRetained = process.memoryUsage().heapUsed - before.heapUsed;
  const { live, fullGcs } = liveHeapOf(gcProfile, before.heapUsed);
  return { rows: manifest.rowCount, ms, bytes, chunkMs, rssStart: before.rss, rssPeak, heapStart: before.heapUsed, heapPeak, heapLive: live, fullGcs, heapRetained };
}

async function benchExport(config: BenchConfig): Promise<Row[]> {
  const total = await headSeq();
  const small = Math.min(config.exportSmall, Math.floor(total / 10));
  const large = Math.min(config.exportLarge, Math.floor(total * 0.4));
  const rows: Row[] = [];
  // A process's first export starts the decryption worker (lib/crypto/parallel-decrypt.ts, a few
  // hundred ms, once): warmed up first, as in a server that has exported before.
  const warmUp = await runExport("jsonl", Math.min(1_000, small));
  log(`export warm-up: ${fmtInt(warmUp.rows)} rows in ${fmtMs(warmUp.ms)} (starts the decryption worker)`);
  for (const format of ["csv", "jsonl"] as const) {
    const results: ExportResult[] = [];
    for (const wanted of [small, large]) {
      const r = await runExport(format, wanted);
      results.push(r);
      const s = summarize(r.chunkMs);
      const perSecond = rate(r.rows, r.ms);
      log(`export ${format} ${fmtInt(r.rows)} rows: ${fmtMs(r.ms)} = ${fmtRate(perSecond, " rows/s")}, ${fmtBytes(r.bytes)}; RSS ${fmtBytes(r.rssStart)} → peak ${fmtBytes(r.rssPeak)} (+${fmtBytes(r.rssPeak - r.rssStart)}); heap ${fmtBytes(r.heapStart)} → peak ${fmtBytes(r.heapPeak)} (+${fmtBytes(r.heapPeak - r.heapStart)}), live at most +${fmtBytes(r.heapLive - r.heapStart)} (${r.fullGcs} full GCs), retained after GC ${fmtBytes(r.heapRetained)}`);
      rows.push(summaryRow(s, {
        section: "export",
        name: `${format}, ${fmtInt(r.rows)} rows`,
        n: r.rows,
        throughput: perSecond,
        unit: " rows/s",
        target: `≥ ${fmtInt(TARGET.exportRowsPerSecond)} rows/s`,
        pass: perSecond >= TARGET.exportRowsPerSecond,
        note: `per 5k-row chunk; ${fmtBytes(r.bytes)}; RSS ${fmtBytes(r.rssStart)} → ${fmtBytes(r.rssPeak)} (+${fmtBytes(r.rssPeak - r.rssStart)}), heap peak +${fmtBytes(r.heapPeak - r.heapStart)}, retained ${fmtBytes(r.heapRetained)}`,
      }));
    }
    // Flat memory: four times the rows may not need meaningfully more memory. Criterion: the
    // large export's live heap (the most that a full GC found in use) at most 32 MiB above the
    // small one's, and its peak RSS within 1.25× the small one's peak RSS + 32 MiB. Live, not
    // peak, heap: the peak is mostly uncollected garbage, and V8 lets more of it pile up the
    // longer a run lasts, up to a plateau. A margin, not a ratio: a full GC lands anywhere in the
    // pipeline of three 5,000-row batches (3 to 25 MiB live seen), while anything kept per row
    // (a sequence number and a hash are ~150 bytes) would add over 40 MiB for 300,000 more rows.
    // Absolute peak RSS, not growth: the RSS at the start depends on how much freed memory V8
    // has not yet handed back to the OS.
    const [a, b] = results as [ExportResult, ExportResult];
    const heapA = a.heapLive - a.heapStart;
    const heapB = b.heapLive - b.heapStart;
    const flat = heapB <= heapA + 32 * 1024 ** 2 && b.rssPeak <= a.rssPeak * 1.25 + 32 * 1024 ** 2;
    rows.push({
      section: "export",
      name: `${format} memory, ${fmtInt(a.rows)} vs ${fmtInt(b.rows)} rows`,
      n: b.rows,
      pass: flat,
      target: "flat (no growth with rows)",
      note: `live heap growth ${fmtBytes(heapA)} vs ${fmtBytes(heapB)} (peak ${fmtBytes(a.heapPeak - a.heapStart)} vs ${fmtBytes(b.heapPeak - b.heapStart)}); peak RSS ${fmtBytes(a.rssPeak)} vs ${fmtBytes(b.rssPeak)}; retained after GC ${fmtBytes(a.heapRetained)} vs ${fmtBytes(b.heapRetained)}`,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// (5) verifyChain over everything

async function benchVerify(config: BenchConfig): Promise<Row> {
  const durations: number[] = [];
  let events = 0;
  for (let i = 0; i < Math.max(1, config.verifyRuns); i++) {
    const t0 = performance.now();
    const result = await verifyOrDie(`the full run (verification ${i + 1}/${config.verifyRuns})`);
    durations.push(performance.now() - t0);
    events = result.eventsChecked;
  }
  const s = summarize(durations);
  const perSecond = rate(events, s.p50);
  return summaryRow(s, {
    section: "verify",
    name: `verifyChain over ${fmtInt(events)} events`,
    n: durations.length,
    throughput: perSecond,
    unit: " ev/s",
    target: `≥ ${fmtInt(TARGET.verifyPerSecond)} ev/s`,
    pass: perSecond >= TARGET.verifyPerSecond,
    note: `latency = one whole verification; throughput from the p50 duration`,
  });
}

// ---------------------------------------------------------------------------------------------

export async function runAuditBenchmarks(config: BenchConfig): Promise<Row[]> {
  const pools = makePools();
  const rows: Row[] = [];
  const section = (title: string) => console.log(`\n== ${title}`);

  section("(1) write throughput, fresh table");
  rows.push(await benchWrites(pools, config, "empty table", 1));
  await verifyOrDie("the write benchmark");

  section(`(2) fill to ${fmtInt(config.events)} events`);
  const filled = await fill(pools, config.events, config.fillConcurrency);
  if (filled) rows.push(filled);
  // This PostgreSQL runs with autovacuum off; in production autovacuum would have analysed
  // (and, for insert-only tables, vacuumed) by now. Without statistics, plans are guesses.
  log(`fill: ${await catchUpTextIndex()}`);
  const t0 = performance.now();
  await db().$executeRawUnsafe("VACUUM (ANALYZE) audit_events");
  await db().$executeRawUnsafe("VACUUM (ANALYZE) audit_event_text");
  log(`VACUUM (ANALYZE) audit_events, audit_event_text: ${fmtMs(performance.now() - t0)}`);
  const [size] = await db().$queryRaw<{ table: string; indexes: string }[]>`
    SELECT pg_size_pretty(pg_table_size('audit_events')) AS table, pg_size_pretty(pg_indexes_size('audit_events')) AS indexes`;
  log(`audit_events: ${fmtInt(await headSeq())} events, table ${size?.table}, indexes ${size?.indexes}`);

  section(`(1b) write throughput at ${fmtInt(await headSeq())} events`);
  rows.push(await benchWrites(pools, config, `at ${fmtInt(await headSeq())} events`, 2));

  section(`(3) search latency at ${fmtInt(await headSeq())} events`);
  rows.push(...(await benchSearch(pools, config)));

  section("(4) streamed export");
  rows.push(...(await benchExport(config)));

  if (config.diagnose) {
    section("(6) diagnostics: where the time goes (before the final verification, which covers their events)");
    rows.push(...(await runDiagnostics(pools, await headSeq())));
  }

  section("(5) verifyChain over the whole chain");
  rows.push(await benchVerify(config));

  return rows;
}
