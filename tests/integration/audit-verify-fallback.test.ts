import { beforeEach, describe, expect, it, vi } from "vitest";
import { recordAuditEvent, verifyChain } from "@/lib/audit";
import { db } from "@/lib/db/client";
import { resetDatabase } from "../support/db";

// Where the worker's source cannot be loaded (here: a file that does not exist, so the thread
// starts and then fails to load it), verification walks the ranges on its own thread.
vi.mock("@/lib/util/source-worker", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/lib/util/source-worker")>();
  return { ...actual, startSourceWorker: () => actual.startSourceWorker("lib/audit/no-such-worker.ts") };
});

beforeEach(resetDatabase);

async function write(count: number) {
  const note = "x".repeat(500);
  await Promise.all(Array.from({ length: count }, (_, i) => recordAuditEvent({ type: "admin", action: "test.event", outcome: "success", actor: { type: "user", id: `u${i}` }, metadata: { i, note } })));
}

describe("verification in ranges without worker threads", () => {
  it("walks every range here, stops at a break part way, and leaves no connection stuck", async () => {
    const said = vi.spyOn(console, "error").mockImplementation(() => undefined);
    // Ranges of 2,000 events (~1.5 MB of COPY each): more than the socket buffers hold, so a range
    // left part way really is mid-COPY.
    await write(6000);
    expect(await verifyChain({ ranges: 3 })).toMatchObject({ ok: true, eventsChecked: 6000 });
    expect(said).toHaveBeenCalledWith("chain verification worker:", expect.stringContaining("Cannot find module"), "(walking its range on the main thread)");
    await db().$transaction([db().$executeRawUnsafe("SET LOCAL session_replication_role = replica"), db().$executeRawUnsafe("UPDATE audit_events SET outcome = 'failure' WHERE seq = 5")]);
    // The first range stops at event 5 in the middle of its COPY: the verdict comes back, and later work gets connections.
    for (let run = 0; run < 8; run++) expect(await verifyChain({ ranges: 3 })).toMatchObject({ ok: false, firstBadSeq: "5", eventsChecked: 4 });
    expect(await db().auditEvent.count()).toBe(6000);
  });
});
