import "server-only";
import { SYSTEM_CONTEXT } from "../audit/context";
import { readConfig } from "../config";
import { runDetection } from "./detect";
import { ensureDefaultPlaybooks } from "./playbooks";
import { jobQueue, PLAYBOOK_QUEUE, stopJobQueue } from "./queue";
import { executeRun } from "./runner";

// The incident worker: detection on a timer and the playbook queue's handler. Runs inside each
// server instance (GATEHOUSE_INCIDENT_WORKER=on, the default) and in `npm run worker`; instances
// share the work through PostgreSQL (the detection lease, the queue's SKIP LOCKED).

const globalForEngine = globalThis as unknown as { gatehouseDetectionTimer?: NodeJS.Timeout };

export async function startIncidentEngine(): Promise<void> {
  const config = readConfig();
  if (config.GATEHOUSE_INCIDENT_WORKER === "off" || globalForEngine.gatehouseDetectionTimer) return;
  await ensureDefaultPlaybooks(SYSTEM_CONTEXT);
  const queue = await jobQueue();
  await queue.work<{ runId: string }>(PLAYBOOK_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
    // "busy": another worker holds the run's lease; the retry finds it finished, or claims it
    // once that worker's lease has ended (it died).
    if ((await executeRun(job!.data.runId)) === "busy") throw new Error("the run is held by another worker");
  });
  let running = false;
  globalForEngine.gatehouseDetectionTimer = setInterval(() => {
    if (running) return;
    running = true;
    runDetection()
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
