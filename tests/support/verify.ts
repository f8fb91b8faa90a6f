import { expect, vi } from "vitest";
import { verifyChain } from "@/lib/audit";

/**
 * verifyChain as one walk and as three ranges checked on worker threads at once: the verdict,
 * the place and the counts must be the same; returns the one walk's.
 */
export async function verifyBothWays() {
  const single = await verifyChain();
  const failures = vi.spyOn(console, "error");
  const inRanges = await verifyChain({ ranges: 3 });
  // The workers ran: had one failed to load, it would have said so here.
  expect(failures).not.toHaveBeenCalled();
  failures.mockRestore();
  expect({ ...inRanges, durationMs: 0 }, "three ranges on worker threads").toEqual({ ...single, durationMs: 0 });
  return single;
}
