import "server-only";
import { availableParallelism, homedir } from "node:os";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import { readConfig } from "../config";
import { pgPool } from "../db/client";
import { onEmbeddedDatabase } from "../db/embedded-flag";
import { cannotLoad, startSourceWorker } from "../util/source-worker";
import { checkRange, type RangeReport, type RangeTask } from "./chain-range";
import type { RangeAnswer, RangeJob } from "./chain-range-worker";

// The chain walked in ranges at once: one worker thread per range, each reading its range as
// one COPY on a connection of its own, all in one snapshot of the database (exported by the
// transaction here), so together they see the chain exactly as one walk would. Hashing is most
// of a walk's CPU, so the ranges use as many cores as there are (up to MAX_RANGES); PostgreSQL
// serves each range's COPY from a backend of its own. The workers' connections are their own, not
// the pool's: a verification opens up to MAX_RANGES connections beside DATABASE_POOL_MAX.

/** Below this many events one walk on this thread is as quick as starting workers. */
const PARALLEL_FROM = 200_000;
const MAX_RANGES = 8;
/** On the embedded database: the events walked while other requests wait for its only connection. */
const EMBEDDED_RANGE = 20_000;
// A bound on the ranges, should a forged sequence number far below the chain's stretch the span.
const MAX_EMBEDDED_RANGES = 1_000;

type RangeBase = Omit<RangeTask, "after" | "upTo">;

/**
 * The events up to `upTo`, checked range by range (chain-range.ts), in order. `ranges` asks for
 * that many ranges (tests); by default a long chain is split over the cores. On the embedded
 * database (one connection, no other) the ranges are walked one after another instead (walkOneByOne).
 */
export async function walkRanges(upTo: bigint, base: RangeBase, ranges?: number): Promise<RangeReport[]> {
  const { DATABASE_URL } = readConfig();
  if (onEmbeddedDatabase()) return walkOneByOne(upTo, base, ranges);
  const count = ranges ?? (upTo >= BigInt(PARALLEL_FROM) ? Math.min(availableParallelism(), MAX_RANGES) : 1);
  const client = await pgPool().connect();
  let destroy = false;
  const workers: Worker[] = [];
  try {
    if (count <= 1 || !DATABASE_URL) {
      const { report, stoppedEarly } = await checkRange(client, { ...base, after: null, upTo: upTo.toString() });
      destroy = stoppedEarly;
      return [report];
    }
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows } = await client.query<{ snapshot: string; first: string | null }>("SELECT pg_export_snapshot() AS snapshot, (SELECT min(seq) FROM audit_events)::text AS first");
    const { snapshot, first } = rows[0]!;
    const tasks = rangeTasks(base, beforeFirst(first, upTo), upTo, count);
    const environment = connectionEnvironment();
    const answers = await Promise.all(tasks.map((task) => inWorker({ connectionString: DATABASE_URL, environment, snapshot, task }, workers)));
    const reports: RangeReport[] = [];
    for (const [i, answer] of answers.entries()) {
      if (answer !== "unavailable") {
        reports.push(answer);
        continue;
      }
      // A worker that cannot load here leaves its range to this thread, in this transaction (same snapshot).
      const { report, stoppedEarly } = await checkRange(client, tasks[i]!);
      reports.push(report);
      if (stoppedEarly) {
        // The COPY was left part way: the connection takes no more statements. The walk's verdict
        // is this range's break (or an earlier one), so the ranges after it are not needed.
        destroy = true;
        return reports;
      }
    }
    await client.query("COMMIT");
    return reports;
  } catch (error) {
    destroy = true;
    // One range failed: the others stop too, and their connections with them.
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw error;
  } finally {
    // Left in the middle of a COPY (or after an error), the connection is closed rather than handed to the next caller.
    client.release(destroy);
  }
}

/**
 * The embedded database's walk: ranges of EMBEDDED_RANGE events (or `ranges` of them), one after
 * another, each in a transaction of its own, the only connection given back in between so that
 * sign-ins and pages are not held up for the whole walk. Events are only ever added after the
 * head the walk stops at, and purges wait for the verification (verify.ts, chain-turns.ts), so
 * the ranges read the chain as one walk would. Stops at the first range with a break.
 */
async function walkOneByOne(upTo: bigint, base: RangeBase, ranges?: number): Promise<RangeReport[]> {
  const { rows } = await pgPool().query<{ first: string | null }>("SELECT min(seq)::text AS first FROM audit_events");
  const after = beforeFirst(rows[0]!.first, upTo);
  const count = ranges ?? Math.min(MAX_EMBEDDED_RANGES, Math.max(1, Math.ceil(Number(upTo - after) / EMBEDDED_RANGE)));
  const reports: RangeReport[] = [];
  for (const task of rangeTasks(base, after, upTo, count)) {
    const client = await pgPool().connect();
    let stoppedEarly = true;
    try {
      const walked = await checkRange(client, task);
      stoppedEarly = walked.stoppedEarly;
      reports.push(walked.report);
    } finally {
      // Left in the middle of a COPY (or after an error), the connection is closed rather than handed to the next caller.
      client.release(stoppedEarly);
    }
    if (reports.at(-1)!.failure) break;
  }
  return reports;
}

// What pg reads from the environment beside DATABASE_URL (lib/connection-parameters.js, pgpass).
const PG_VARIABLES = ["PGHOST", "PGPORT", "PGDATABASE", "PGPASSWORD", "PGSSLMODE", "PGSSLNEGOTIATION", "PGAPPNAME", "PGOPTIONS", "PGCONNECT_TIMEOUT", "PGCLIENTENCODING"];

/**
 * The variables a worker needs to connect as this process does: those pg reads, with the user
 * (pg falls back to USER when it loads, before a worker could be given it) and the password
 * file (~/.pgpass unless PGPASSFILE says otherwise) made explicit.
 */
function connectionEnvironment(): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of PG_VARIABLES) if (process.env[name] !== undefined) environment[name] = process.env[name];
  const user = process.env.PGUSER ?? process.env.USER;
  if (user) environment.PGUSER = user;
  environment.PGPASSFILE = process.env.PGPASSFILE ?? path.join(process.env.HOME ?? homedir(), ".pgpass");
  return environment;
}

/** Just below the lowest sequence number (`first`, from min(seq); the head's when there are no events). */
const beforeFirst = (first: string | null, upTo: bigint) => BigInt(first ?? upTo.toString()) - BigInt(1);

/** (after, upTo] in `count` ranges, as tasks; the first has no lower bound: a row forged below the chain must be seen. */
function rangeTasks(base: RangeBase, after: bigint, upTo: bigint, count: number): RangeTask[] {
  return split(after, upTo, count).map(([from, end], i) => ({ ...base, after: i === 0 ? null : from.toString(), upTo: end.toString() }));
}

/** (after, upTo] cut into `count` ranges of (nearly) equal length, in order. */
export function split(after: bigint, upTo: bigint, count: number): [bigint, bigint][] {
  const length = upTo > after ? upTo - after : BigInt(0);
  return Array.from({ length: count }, (_, i) => [after + (length * BigInt(i)) / BigInt(count), after + (length * BigInt(i + 1)) / BigInt(count)]);
}

/** One range checked on a worker thread (added to `workers`); "unavailable" if the worker's source cannot be loaded here. */
function inWorker(job: RangeJob, workers: Worker[]): Promise<RangeReport | "unavailable"> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = startSourceWorker("lib/audit/chain-range-worker.ts");
      workers.push(worker);
    } catch (error) {
      console.error("chain verification worker:", error instanceof Error ? error.message : error, "(walking its range on the main thread)");
      resolve("unavailable");
      return;
    }
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
      void worker.terminate();
    };
    worker.on("message", (answer: RangeAnswer) => settle(() => ("report" in answer ? resolve(answer.report) : reject(new Error(`chain verification worker: ${answer.error}`)))));
    worker.on("error", (error) => settle(() => {
      if (!cannotLoad(error)) return reject(error);
      console.error("chain verification worker:", error.message, "(walking its range on the main thread)");
      resolve("unavailable");
    }));
    worker.on("exit", (code) => settle(() => reject(new Error(`chain verification worker exited (${code}) before answering`))));
    worker.postMessage(job);
  });
}
