// Whether this process serves its own database (lib/db/embedded.ts: one connection, one process).
// Set by server.ts and the CLI scripts when they start it. Kept on globalThis: Next.js may load a
// module more than once in one process (one copy per server entry), and all must agree.
const EMBEDDED = Symbol.for("gatehouse.embeddedDatabase");
const flags = globalThis as unknown as Record<symbol, boolean | undefined>;

export function markEmbeddedDatabase(on = true): void {
  flags[EMBEDDED] = on;
}

export const onEmbeddedDatabase = (): boolean => flags[EMBEDDED] === true;
