import { beforeEach, describe, expect, it, vi } from "vitest";
import { recordAuditEvent, verifyChain } from "@/lib/audit";
import { db } from "@/lib/db/client";
import { resetDatabase } from "../support/db";

// Where the worker's source cannot be loaded, verification walks the ranges on its own thread.
vi.mock("@/lib/util/source-worker", () => ({
  startSourceWorker: () => {
    throw new Error("Cannot find module 'lib/audit/chain-range-worker.ts'");
  },
  cannotLoad: () => true,
}));

beforeEach(resetDatabase);

async function write(count: number) {
  const note = "x".repeat(500);
  await Promise.all(Array.from({ length: count }, (_, i) => recordAuditEvent({ type: "admin", action: "test.event", outcome: "success", actor: { type: "user", id: `u${i}` }, metadata: { i, note } })));
}

describe("verification in ranges without worker threads", () => {
  it("walks every range here, stops at a break part way, and leaves no connection stuck", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    // Ranges of 2,000 events (~1.5 MB of COPY each): more than the socket buffers hold, so a range
    // left part way really is mid-COPY.
    await write(6000);
    expect(await verifyChain({ ranges: 3 })).toMatchObject({ ok: true, eventsChecked: 6000 });
    await db().$transaction([db().$executeRawUnsafe("SET LOCAL session_replication_role = replica"), db().$executeRawUnsafe("UPDATE audit_events SET outcome = 'failure' WHERE seq = 5")]);
    // The first range stops at event 5 in the middle of its COPY: the verdict comes back, and later work gets connections.
    for (let run = 0; run < 8; run++) expect(await verifyChain({ ranges: 3 })).toMatchObject({ ok: false, firstBadSeq: "5", eventsChecked: 4 });
    expect(await db().auditEvent.count()).toBe(6000);
  });
});
