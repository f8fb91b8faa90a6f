import "server-only";

// On the embedded database a verification walks the chain in several transactions (chain-walk.ts),
// and a purge between two of them would look like events gone missing: a false alarm of
// tampering. One process owns the embedded database (its folder is locked), so taking turns in
// this process is enough: purges and such walks run one at a time, in the order they came.
let last: Promise<unknown> = Promise.resolve();

/** Runs `task` after every task handed here before it has ended (whether it succeeded or not). */
export function inTurn<T>(task: () => Promise<T>): Promise<T> {
  const run = last.then(task, task);
  last = run.catch(() => undefined);
  return run;
}
