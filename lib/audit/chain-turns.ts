import "server-only";

// On the embedded database a verification walks the chain in several transactions (chain-walk.ts),
// and a purge between two of them would look like events gone missing: a false alarm of
// tampering. One process owns the embedded database (its folder is locked), so taking turns in
// this process is enough: purges and verifications run one at a time, in the order they came.
// The queue is kept on globalThis: Next.js may load this module once per server entry (the
// schedules start from instrumentation.ts, the console's button from a server action).
const TURNS = Symbol.for("gatehouse.audit.turns");
const shared = globalThis as unknown as Record<symbol, Promise<unknown> | undefined>;

/**
 * Runs `task` after every task handed here before it has ended (whether it succeeded or not).
 * A task must not itself wait for inTurn: it would wait for itself.
 */
export function inTurn<T>(task: () => Promise<T>): Promise<T> {
  const run = (shared[TURNS] ?? Promise.resolve()).then(task, task);
  shared[TURNS] = run.catch(() => undefined);
  return run;
}
