import { beforeEach, describe, expect, it } from "vitest";
import { recordAuditEvent, verifyChain } from "@/lib/audit";
import { RANGE_CONNECTION_NAME } from "@/lib/audit/chain-range";
import { db } from "@/lib/db/client";
import { resetDatabase } from "../support/db";

beforeEach(resetDatabase);

describe("verification in ranges on worker threads", () => {
  it("answers when its workers stop part way through long COPYs, and their connections go with them", async () => {
    const note = "x".repeat(500);
    await Promise.all(Array.from({ length: 6000 }, (_, i) => recordAuditEvent({ type: "admin", action: "test.event", outcome: "success", actor: { type: "user", id: `u${i}` }, metadata: { i, note } })));
    // Counted by name: the app's own pool may open or close a connection meanwhile.
    const rangeConnections = async () => Number((await db().$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = ${RANGE_CONNECTION_NAME}`)[0]!.n);
    await db().$transaction([db().$executeRawUnsafe("SET LOCAL session_replication_role = replica"), db().$executeRawUnsafe("UPDATE audit_events SET outcome = 'failure' WHERE seq IN (5, 2005, 4005)")]);
    // Ranges of 2,000 events (~1.5 MB of COPY each): every worker stops near the start of its range.
    for (let run = 0; run < 3; run++) expect(await verifyChain({ ranges: 3 })).toMatchObject({ ok: false, firstBadSeq: "5", eventsChecked: 4 });
    // The workers' connections close with them (allow a moment for PostgreSQL to see them go).
    await expect.poll(rangeConnections, { timeout: 5_000 }).toBe(0);
  });
});
