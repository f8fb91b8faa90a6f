import "server-only";
import { SYSTEM_CONTEXT } from "../audit/context";
import { readConfig } from "../config";
import { runDetection } from "./detect";
import { ensureDefaultPlaybooks } from "./playbooks";
import { enqueuePlaybookRun, jobQueue, PLAYBOOK_QUEUE, stopJobQueue } from "./queue";
import { abandonRun, executeRun, requeueStalledRuns, RetryRun } from "./runner";
import { workUserNotices } from "../notices";

// The incident worker: detection on a timer and the playbook queue's handler. Runs inside each
// server instance (GATEHOUSE_INCIDENT_WORKER=on, the default) and in `npm run worker`; instances
// share the work through PostgreSQL (the detection lease, the queue's SKIP LOCKED).

const globalForEngine = globalThis as unknown as { gatehouseDetectionTimer?: NodeJS.Timeout };

export async function startIncidentEngine(): Promise<void> {
  const config = readConfig();
  if (config.GATEHOUSE_INCIDENT_WORKER === "off" || globalForEngine.gatehouseDetectionTimer) return;
  await ensureDefaultPlaybooks(SYSTEM_CONTEXT);
  const queue = await jobQueue();
  await requeueStalledRuns();
  await queue.work<{ runId: string }>(PLAYBOOK_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1, includeMetadata: true }, async ([job]) => {
    const { runId } = job!.data;
    try {
      const outcome = await executeRun(runId);
      // Another worker holds the run: look again when its lease ends (if it died, this one takes over).
      if (outcome.state === "busy") await enqueuePlaybookRun(runId, new Date(outcome.leaseUntil.getTime() + 1_000));
    } catch (error) {
      // A step that failed is tried again with a job of its own: the job's retries below are for
      // a worker's errors, and a run may need more than one job's worth (each step has its attempts).
      if (error instanceof RetryRun) return void (await enqueuePlaybookRun(runId, new Date(Date.now() + error.delayMs)));
      if (job!.retryCount < job!.retryLimit) throw error;
      await abandonRun(runId, error instanceof Error ? error.message : String(error));
    }
  });
  await workUserNotices(queue);
  let running = false;
  let ticks = 0;
  globalForEngine.gatehouseDetectionTimer = setInterval(() => {
    if (running) return;
    running = true;
    const sweep = ++ticks % Math.max(1, Math.round(60_000 / config.GATEHOUSE_DETECTION_INTERVAL_MS)) === 0;
    (sweep ? requeueStalledRuns() : Promise.resolve(0))
      .then(() => runDetection())
      .catch((error: unknown) => console.error("[incidents] detection:", error instanceof Error ? error.message : error))
      .finally(() => (running = false));
  }, config.GATEHOUSE_DETECTION_INTERVAL_MS);
  globalForEngine.gatehouseDetectionTimer.unref();
}

export async function stopIncidentEngine(): Promise<void> {
  clearInterval(globalForEngine.gatehouseDetectionTimer);
  globalForEngine.gatehouseDetectionTimer = undefined;
  await stopJobQueue();
}
