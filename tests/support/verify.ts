import { expect, vi } from "vitest";
import { verifyChain } from "@/lib/audit";
import { markEmbeddedDatabase } from "@/lib/db/embedded-flag";

/**
 * verifyChain as one walk, as three ranges checked on worker threads at once, and as three ranges
 * one after another (as on the embedded database, which has one connection): the verdict, the
 * place and the counts must be the same; returns the one walk's.
 */
export async function verifyEveryWay() {
  const single = await verifyChain();
  const failures = vi.spyOn(console, "error");
  const inRanges = await verifyChain({ ranges: 3 });
  // The workers ran: had one failed to load, it would have said so here.
  expect(failures).not.toHaveBeenCalled();
  failures.mockRestore();
  expect({ ...inRanges, durationMs: 0 }, "three ranges on worker threads").toEqual({ ...single, durationMs: 0 });
  const oneByOne = await asOnTheEmbeddedDatabase(() => verifyChain({ ranges: 3 }));
  expect({ ...oneByOne, durationMs: 0 }, "three ranges one after another").toEqual({ ...single, durationMs: 0 });
  return single;
}

/** Runs `task` as on the embedded database (which server.ts marks as such); the pool itself stays as it is. */
export async function asOnTheEmbeddedDatabase<T>(task: () => Promise<T>): Promise<T> {
  markEmbeddedDatabase();
  try {
    return await task();
  } finally {
    markEmbeddedDatabase(false);
  }
}
