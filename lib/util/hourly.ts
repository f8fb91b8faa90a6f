const HOUR_MS = 3_600_000;
const scheduled = globalThis as unknown as { gatehouseHourlyTasks?: Set<string> };

/**
 * Runs `task` every hour in this process, the first time `firstAfterMs` after start (so a restart
 * loop does not run it each time), and only once per `name` however often it is scheduled (Next
 * may load a module twice). A failure is logged with `name` and the next hour tries again.
 */
export function everyHour(name: string, firstAfterMs: number, task: () => Promise<unknown>): void {
  const tasks = (scheduled.gatehouseHourlyTasks ??= new Set());
  if (tasks.has(name)) return;
  tasks.add(name);
  const run = () => void task().catch((error: unknown) => console.error(`[${name}]`, error instanceof Error ? error.message : error));
  setInterval(run, HOUR_MS).unref();
  setTimeout(run, firstAfterMs).unref();
}
