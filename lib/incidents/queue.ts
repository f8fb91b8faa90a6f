import "server-only";
import PgBoss from "pg-boss";
import { pgPool } from "../db/client";
import { readConfig } from "../config";

// The PostgreSQL-backed job queue (pg-boss, in its own schema "pgboss"): a playbook run is a job,
// so it survives a restart and is retried (so is a security notice: lib/notices declares its own
// queue). pg-boss talks through the app's pool (on the embedded database there is one connection).
// Sending works on every instance; `work` only where the incident worker runs.

export const PLAYBOOK_QUEUE = "playbook-run";
// Attempts at each step of a run (lib/incidents/runner.ts), and at a job that a worker's error ended.
export const PLAYBOOK_ATTEMPTS = 3;

const globalForQueue = globalThis as unknown as { gatehouseQueue?: Promise<PgBoss> };

async function start(): Promise<PgBoss> {
  const timeout = jobExpirySeconds();
  const boss = new PgBoss({
    db: { executeSql: (text: string, values: unknown[]) => pgPool().query(text, values) },
    schema: "pgboss",
    // Expired jobs (a worker that died) are failed and retried by maintenance: check often.
    maintenanceIntervalSeconds: Math.max(1, Math.min(30, Math.floor(timeout / 2))),
    schedule: false,
  });
  boss.on("error", (error: Error) => console.error("[incidents] job queue:", error.message));
  await boss.start();
  await declareQueue(boss, { name: PLAYBOOK_QUEUE, retryLimit: PLAYBOOK_ATTEMPTS - 1, retryDelay: 2, retryBackoff: true, expireInSeconds: jobExpirySeconds() });
  return boss;
}

/** A queue with these settings: createQueue leaves an existing queue as it is, updateQueue applies today's settings to it. */
export async function declareQueue(boss: PgBoss, settings: PgBoss.Queue): Promise<void> {
  await boss.createQueue(settings.name, settings);
  await boss.updateQueue(settings.name, settings);
}

/** The queue, started once per process. */
export function jobQueue(): Promise<PgBoss> {
  globalForQueue.gatehouseQueue ??= start().catch((error: unknown) => {
    globalForQueue.gatehouseQueue = undefined;
    throw error;
  });
  return globalForQueue.gatehouseQueue;
}

// Twice the run's lease: a slow worker's lease ends (and its owner check stops it) before the queue
// hands the job to another.
const jobExpirySeconds = () => readConfig().GATEHOUSE_PLAYBOOK_TIMEOUT_SECONDS * 2;

export async function enqueuePlaybookRun(runId: string, startAfter?: Date): Promise<void> {
  await (await jobQueue()).send(PLAYBOOK_QUEUE, { runId }, { expireInSeconds: jobExpirySeconds(), ...(startAfter ? { startAfter } : {}) });
}

export async function stopJobQueue(): Promise<void> {
  const boss = await globalForQueue.gatehouseQueue?.catch(() => null);
  globalForQueue.gatehouseQueue = undefined;
  await boss?.stop({ graceful: true, wait: true, timeout: 5_000 });
}
