import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { db } from "@/lib/db/client";
import { auditFiltersSchema, recordAuditEvent, searchAuditEvents, verifyChain, verifyChainIfDue, purgeAuditEvents, applyAuditRetention, checkAuditEvent, type AuditEventInput } from "@/lib/audit";
import { eventTextHash } from "@/lib/audit/hash";
import { split } from "@/lib/audit/chain-walk";
import { CHECKPOINT_EVERY, insertCheckpoint, legacyCheckpointStatement, readRange } from "@/lib/audit/store";
import { signDetached } from "@/lib/crypto";
import { resetDatabase } from "../support/db";
import { asOnTheEmbeddedDatabase, verifyEveryWay } from "../support/verify";

beforeEach(resetDatabase);
afterEach(() => void vi.useRealTimers());

const event = (i: number, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
  type: "admin",
  action: "test.event",
  outcome: "success",
  actor: { type: "user", id: `writer-${i % 16}`, label: `writer${i % 16}@example.test` },
  client: { ip: `198.51.100.${i % 250}`, userAgent: "vitest" },
  metadata: { i },
  ...extra,
});

async function writeMany(count: number, writers = 16) {
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = w; i < count; i += writers) await recordAuditEvent(event(i));
    }),
  );
}

/** What an attacker with superuser rights can do: switch the triggers off for one statement. */
async function asSuperuserBypassingTriggers(sql: string) {
  await db().$transaction([db().$executeRawUnsafe("SET LOCAL session_replication_role = replica"), db().$executeRawUnsafe(sql)]);
}

describe("the audit chain", () => {
  it("stays one gapless, verified chain under 16 concurrent writers", async () => {
    await writeMany(800);
    const rows = await readRange(BigInt(0), 10_000);
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 800 }, (_, i) => i + 1));
    const result = await verifyEveryWay();
    expect(result).toMatchObject({ ok: true, eventsChecked: 800, firstSeq: "1", lastSeq: "800", firstBadSeq: null });
  });

  it("stays one chain when another instance appends between this process's batches", async () => {
    const first = await recordAuditEvent(event(1));
    // Another instance: it takes the head lock, chains onto the head and moves it.
    const [head] = await db().$queryRawUnsafe<{ seq: bigint; hash: string }[]>("SELECT seq, hash FROM audit_chain_head");
    const theirs = await readRange(BigInt(0), 1).then((rows) => ({ ...rows[0]!, seq: String(head!.seq + BigInt(1)), id: crypto.randomUUID(), prevHash: head!.hash }));
    const { hash: _, ...unhashed } = theirs;
    const hash = eventTextHash(unhashed);
    await db().$transaction([
      db().$executeRawUnsafe("SELECT 1 FROM audit_chain_head WHERE id = 1 FOR UPDATE"),
      db().$executeRawUnsafe(`INSERT INTO audit_events (seq, id, at, type, action, outcome, actor_type, actor_id, actor_label, ip_cipher, ip_hash, user_agent_cipher, metadata, prev_hash, hash)
        SELECT ${theirs.seq}, '${theirs.id}', at, type, action, outcome, actor_type, actor_id, actor_label, ip_cipher, ip_hash, user_agent_cipher, metadata, '${theirs.prevHash}', '${hash}' FROM audit_events WHERE seq = 1`),
      db().$executeRawUnsafe(`UPDATE audit_chain_head SET seq = ${theirs.seq}, hash = '${hash}'`),
    ]);
    const next = await Promise.all([recordAuditEvent(event(2)), recordAuditEvent(event(3))]);
    const after = await recordAuditEvent(event(4));
    expect([first.seq, ...next.map((e) => e.seq), after.seq]).toEqual(["1", "3", "4", "5"]);
    expect(await verifyEveryWay()).toMatchObject({ ok: true, eventsChecked: 5 });
  });

  it("dates events by the database's clock even when this process's clock is wrong", async () => {
    await recordAuditEvent(event(1));
    const [{ now }] = (await db().$queryRawUnsafe<{ now: Date }[]>("SELECT now()")) as [{ now: Date }];
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2031-01-01T00:00:00Z") });
    const ahead = await recordAuditEvent(event(2));
    vi.useRealTimers();
    const behind = await recordAuditEvent(event(3));
    for (const recorded of [ahead, behind]) expect(Math.abs(Date.parse(recorded.at) - now.getTime())).toBeLessThan(60_000);
    expect(Date.parse(behind.at)).toBeGreaterThanOrEqual(Date.parse(ahead.at));
    expect(await verifyEveryWay()).toMatchObject({ ok: true, eventsChecked: 3 });
  });

  it("verifies while events are being written, without calling the new ones missing", async () => {
    await writeMany(300);
    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++, written++) await recordAuditEvent(event(i));
    })();
    // Verify again and again until the writer has committed a good number of events meanwhile.
    const results = [];
    while ((results.length < 5 || written < 20) && results.length < 500) results.push(await verifyChain());
    writing = false;
    await writer;
    expect(written).toBeGreaterThanOrEqual(20);
    expect(results.filter((r) => r.problem !== null)).toEqual([]);
    expect(Number(results.at(-1)!.lastSeq)).toBeGreaterThan(300);
  });

  it("asked again while a walk is under way, answers with that walk instead of queueing another", async () => {
    await writeMany(200, 4);
    const [first, second, third] = await Promise.all([verifyChain(), verifyChain(), verifyChain()]);
    expect(first).toMatchObject({ ok: true, eventsChecked: 200 });
    expect(second).toBe(first);
    expect(third).toBe(first);
    await recordAuditEvent(event(200));
    // Once it has ended, the next request walks again (and sees the event written since).
    expect(await verifyChain()).toMatchObject({ ok: true, eventsChecked: 201 });
  });

  it("is verified on a schedule when nobody has verified it for 23 hours, and the result is audited", async () => {
    await writeMany(20, 2);
    expect(await verifyChainIfDue()).toBe(true);
    expect(await verifyChainIfDue(new Date(Date.now() + 22 * 3_600_000))).toBe(false);
    expect(await verifyChainIfDue(new Date(Date.now() + 24 * 3_600_000))).toBe(true);
    const runs = await db().auditEvent.findMany({ where: { action: "audit.chain.verify" }, select: { outcome: true, metadata: true } });
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ outcome: "success", metadata: { via: "schedule", eventsChecked: 20, problem: null } });
  });

  it("refuses UPDATE, DELETE and TRUNCATE through the trigger", async () => {
    await recordAuditEvent(event(1));
    await expect(db().$executeRawUnsafe("UPDATE audit_events SET outcome = 'failure'")).rejects.toThrow(/append-only/);
    await expect(db().$executeRawUnsafe("DELETE FROM audit_events")).rejects.toThrow(/append-only/);
    await expect(db().$executeRawUnsafe("TRUNCATE audit_events")).rejects.toThrow(/append-only/);
    expect((await verifyEveryWay()).ok).toBe(true);
  });

  it("detects a superuser's UPDATE at the exact sequence number", async () => {
    await writeMany(120, 4);
    await asSuperuserBypassingTriggers("UPDATE audit_events SET outcome = 'failure' WHERE seq = 57");
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: "57", eventsChecked: 56 });
  });

  it("walked in ranges on worker threads, finds each break at a range's edge where one walk finds it", async () => {
    // 120 events in three ranges: (0, 40], (40, 80], (80, 120].
    expect(split(BigInt(0), BigInt(120), 3)).toEqual([[BigInt(0), BigInt(40)], [BigInt(40), BigInt(80)], [BigInt(80), BigInt(120)]]);
    await writeMany(120, 4);
    expect(await verifyEveryWay()).toMatchObject({ ok: true, eventsChecked: 120 });
    // The first event of a range changed: its own range finds it.
    await asSuperuserBypassingTriggers("UPDATE audit_events SET outcome = 'failure' WHERE seq = 41");
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: "41", eventsChecked: 40, problem: "event 41 was changed after it was written" });
    await resetDatabase();
    await writeMany(120, 4);
    // The first event of a range relinked (its hash recomputed): only the join of two ranges sees it.
    const [row] = await readRange(BigInt(80), 1);
    const { hash: _hash, ...fields } = row!;
    const relinked = { ...fields, prevHash: "0".repeat(64) };
    await asSuperuserBypassingTriggers(`UPDATE audit_events SET prev_hash = '${relinked.prevHash}', hash = '${eventTextHash(relinked)}' WHERE seq = 81`);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: "81", eventsChecked: 80, problem: "event 81 does not link to the event before it" });
    await resetDatabase();
    await writeMany(120, 4);
    // The first event of a range gone, and the last of the one before.
    await asSuperuserBypassingTriggers("DELETE FROM audit_events WHERE seq IN (40, 41)");
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: "40", eventsChecked: 39, problem: "event 40 is missing" });
  });

  it("finds a row forged with a sequence number below the chain's, in one walk and in ranges", async () => {
    await writeMany(30, 2);
    // Inserts pass the trigger; only the chain can tell this one does not belong.
    await db().$executeRawUnsafe(`INSERT INTO audit_events (seq, id, at, type, action, outcome, actor_type, metadata, prev_hash, hash)
      SELECT 0, gen_random_uuid(), at, type, action, outcome, actor_type, metadata, prev_hash, hash FROM audit_events WHERE seq = 1`);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: "0", eventsChecked: 0, problem: "events before 0 are missing and no purge's checkpoint anchors the chain there" });
  });

  it("finds a row inserted beyond the chain head, which neither detection nor the last-verification check may trust", async () => {
    await writeMany(30, 2);
    // A forged "verification passed" dated far ahead, with a sequence number past the head.
    await db().$executeRawUnsafe(`INSERT INTO audit_events (seq, id, at, type, action, outcome, actor_type, metadata, prev_hash, hash)
      SELECT 9000000000000000, gen_random_uuid(), now() + interval '10 years', 'security', 'audit.chain.verify', 'success', 'system', '{}', hash, hash FROM audit_events WHERE seq = 30`);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: "9000000000000000", problem: "event 9000000000000000 lies beyond the chain head (30): it was inserted outside the chain" });
    // Its own page does not call it intact either: the head, read after it, is before it.
    expect(await checkAuditEvent(BigInt("9000000000000000"))).toMatchObject({ hashHolds: false, beyondHead: true, intact: false });
    expect(await checkAuditEvent(BigInt(30))).toMatchObject({ beyondHead: false, intact: true });
    // Detection reads the chain up to its head: its cursor cannot be sent past every real event.
    expect((await readRange(BigInt(29), 10)).map((e) => String(e.seq))).toEqual(["30"]);
    // The forged row does not pass for a recent verification: one is due, runs, and fails.
    expect(await verifyChainIfDue()).toBe(true);
    expect(await db().auditEvent.findFirst({ where: { action: "audit.chain.verify", seq: { lte: 1000 } }, orderBy: { seq: "desc" } })).toMatchObject({ outcome: "failure" });
  });

  it("detects a superuser's DELETE in the middle and at the end", async () => {
    await writeMany(50, 4);
    await asSuperuserBypassingTriggers("DELETE FROM audit_events WHERE seq = 31");
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: "31", problem: "event 31 is missing" });
    await resetDatabase();
    await writeMany(50, 4);
    await asSuperuserBypassingTriggers("DELETE FROM audit_events WHERE seq > 45");
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: "46" });
  });

  it("a rewritten chain (hashes recomputed) fails at the signed checkpoint", async () => {
    await writeMany(CHECKPOINT_EVERY + 10, 8);
    // Forge event 500 and recompute every hash after it, as a careful attacker would.
    const rows = await readRange(BigInt(499), 10_000);
    let prev = rows[0]!.prevHash;
    for (const row of rows) {
      const { hash: _old, ...fields } = row;
      const forged = { ...fields, prevHash: prev, outcome: row.seq === "500" ? "failure" : row.outcome };
      prev = eventTextHash(forged);
      await asSuperuserBypassingTriggers(`UPDATE audit_events SET outcome = '${forged.outcome}', prev_hash = '${forged.prevHash}', hash = '${prev}' WHERE seq = ${row.seq}`);
    }
    await asSuperuserBypassingTriggers(`UPDATE audit_chain_head SET hash = '${prev}'`);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: String(CHECKPOINT_EVERY) });
  });

  it("a rewritten chain whose checkpoints were removed too fails where the first one is missing", async () => {
    await writeMany(2 * CHECKPOINT_EVERY + 300, 16);
    expect(await verifyEveryWay()).toMatchObject({ ok: true, checkpointsChecked: 2 });
    // The careful attacker of the test above also removes the checkpoints after event 1,500.
    const rows = await readRange(BigInt(1499), 10_000);
    let prev = rows[0]!.prevHash;
    const updates = rows.map((row) => {
      const { hash: _old, ...fields } = row;
      const forged = { ...fields, prevHash: prev, outcome: row.seq === "1500" ? "failure" : row.outcome };
      prev = eventTextHash(forged);
      return `UPDATE audit_events SET outcome = '${forged.outcome}', prev_hash = '${forged.prevHash}', hash = '${prev}' WHERE seq = ${row.seq};`;
    });
    await asSuperuserBypassingTriggers(`DO $$ BEGIN ${updates.join(" ")} DELETE FROM audit_checkpoints WHERE seq > 1500; UPDATE audit_chain_head SET hash = '${prev}'; END $$`);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: String(2 * CHECKPOINT_EVERY), problem: expect.stringContaining("checkpoints were removed") });
  });

  it("every event deleted and the head moved back to a checkpoint fails: only a purge's checkpoint may anchor an empty chain", async () => {
    await writeMany(CHECKPOINT_EVERY + 300, 16);
    const newest = await db().auditCheckpoint.findFirstOrThrow({ orderBy: { seq: "desc" } });
    // The purge switch is a setting any session may set; the head row has no trigger.
    await db().$transaction([
      db().$executeRawUnsafe("SELECT set_config('gatehouse.audit_purge', 'on', true)"),
      db().$executeRawUnsafe("DELETE FROM audit_events"),
      db().$executeRawUnsafe("DELETE FROM audit_event_text"),
      db().$executeRawUnsafe(`UPDATE audit_chain_head SET seq = ${newest.seq}, hash = '${newest.hash}'`),
    ]);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: String(newest.seq), problem: `no event remains and no purge's checkpoint anchors the chain head (${newest.seq}): the events were deleted` });
  });

  it("a purge that takes every event leaves a chain that verifies", async () => {
    await writeMany(40, 4);
    expect(await purgeAuditEvents(new Date(Date.now() + 60_000))).toMatchObject({ purged: 40, anchorSeq: "40" });
    expect(await verifyEveryWay()).toMatchObject({ ok: true, eventsChecked: 0 });
  });

  it("the free-text index beside the chain is append-only, and an entry removed behind the trigger's back is found", async () => {
    await writeMany(40, 2);
    const search = async () => (await searchAuditEvents(auditFiltersSchema.parse({ q: "writer7@example.test" }))).events.length;
    expect(await search()).toBe(3);
    await expect(db().$executeRawUnsafe("DELETE FROM audit_event_text WHERE seq = 8")).rejects.toThrow(/append-only/);
    await expect(db().$executeRawUnsafe("UPDATE audit_event_text SET words = ''::tsvector WHERE seq = 8")).rejects.toThrow(/append-only/);
    const [hidden] = await db().$queryRaw<{ seq: bigint }[]>`SELECT min(seq) AS seq FROM audit_events WHERE actor_label = 'writer7@example.test'`;
    await asSuperuserBypassingTriggers(`DELETE FROM audit_event_text WHERE seq = ${hidden!.seq}`);
    expect(await search()).toBe(2);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: String(hidden!.seq), problem: expect.stringContaining(`the free-text index has no entry for event ${hidden!.seq}`) });
  });

  it("events cut from the end are caught by the checkpoint they leave beyond the head", async () => {
    await writeMany(CHECKPOINT_EVERY + 200, 16);
    const [kept] = await readRange(BigInt(CHECKPOINT_EVERY - 101), 1);
    await asSuperuserBypassingTriggers(`DO $$ BEGIN DELETE FROM audit_events WHERE seq > ${kept!.seq}; UPDATE audit_chain_head SET seq = ${kept!.seq}, hash = '${kept!.hash}'; END $$`);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, problem: expect.stringContaining("beyond the chain head") });
  });

  it("only a purge's checkpoint anchors a chain whose first events are gone, and its reason is signed", async () => {
    await writeMany(CHECKPOINT_EVERY + 200, 16);
    const periodic = await db().auditCheckpoint.findFirstOrThrow({ where: { reason: "periodic" } });
    await asSuperuserBypassingTriggers(`DELETE FROM audit_events WHERE seq <= ${periodic.seq}`);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: String(periodic.seq + BigInt(1)), problem: expect.stringContaining("no purge's checkpoint") });
    await asSuperuserBypassingTriggers(`UPDATE audit_checkpoints SET reason = 'purge' WHERE seq = ${periodic.seq}`);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, problem: `checkpoint at ${periodic.seq} has an invalid signature` });
  });

  it("checkpoints signed before the reason was signed still verify", async () => {
    await writeMany(CHECKPOINT_EVERY + 10, 8);
    const periodic = await db().auditCheckpoint.findFirstOrThrow({ where: { reason: "periodic" } });
    const { signature } = signDetached(legacyCheckpointStatement(periodic.seq, periodic.hash));
    await asSuperuserBypassingTriggers(`UPDATE audit_checkpoints SET signature = '${signature}' WHERE seq = ${periodic.seq}`);
    expect(await verifyEveryWay()).toMatchObject({ ok: true, checkpointsChecked: 1 });
    // Their stored reason is not signed: relabelled a purge's, one cannot anchor deleted events.
    await asSuperuserBypassingTriggers(`DO $$ BEGIN UPDATE audit_checkpoints SET reason = 'purge' WHERE seq = ${periodic.seq}; DELETE FROM audit_events WHERE seq <= ${periodic.seq}; END $$`);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: String(periodic.seq + BigInt(1)), problem: expect.stringContaining("no purge's checkpoint") });
    expect(await checkAuditEvent(periodic.seq + BigInt(1))).toMatchObject({ previousPurged: false, intact: false });
  });

  it("encrypts IP and user agent at rest", async () => {
    await recordAuditEvent(event(7, { client: { ip: "203.0.113.77", userAgent: "Secret Browser 1.0" } }));
    await expect.poll(() => db().auditEventText.count()).toBe(1);
    const [raw] = await db().$queryRawUnsafe<Record<string, unknown>[]>(
      "SELECT ip_cipher, ip_hash, user_agent_cipher, metadata, t.words::text FROM audit_events e JOIN audit_event_text t USING (seq)",
    );
    expect(raw?.words).toContain("writer7@example.test");
    const stored = JSON.stringify(raw);
    expect(stored).not.toContain("203.0.113.77");
    expect(stored).not.toContain("Secret Browser");
    expect(String(raw!.ip_cipher)).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("rejects a malformed event without breaking the chain", async () => {
    await expect(recordAuditEvent({ ...event(1), action: "Not An Action!" })).rejects.toThrow();
    await expect(recordAuditEvent({ ...event(1), type: "nonsense" as never })).rejects.toThrow();
    await recordAuditEvent(event(2, { metadata: { note: "nul \0 byte" } }));
    expect(await verifyEveryWay()).toMatchObject({ ok: true, eventsChecked: 1 });
  });

  it("stores metadata as its canonical JSON text and verifies odd strings, keys and numbers", async () => {
    const metadata = { "10": [1e21, 1e-7, -0, "é 😀"], "9": { z: null, a: "\u0001 \"quoted\"" }, b: "\u2028", a: true };
    // A lone surrogate cannot reach PostgreSQL as it is: it is replaced before the event is hashed.
    await recordAuditEvent(event(3, { actor: { type: "user", id: "u-3", label: "lone \ud800 surrogate" }, metadata, policyDecisions: [{ policy: "p1", effect: "permit" }] }));
    const [row] = await db().$queryRawUnsafe<{ metadata: string; actor_label: string }[]>("SELECT metadata::text AS metadata, actor_label FROM audit_events");
    expect(row!.metadata).toBe('{"10":[1e+21,1e-7,0,"é 😀"],"9":{"a":"\\u0001 \\"quoted\\"","z":null},"a":true,"b":"\u2028"}');
    expect(row!.actor_label).toBe("lone \uFFFD surrogate");
    expect(await verifyEveryWay()).toMatchObject({ ok: true, eventsChecked: 1 });
  });

  it("stores quotes, backslashes and SQL in any field exactly as written", async () => {
    const hostile = String.raw`O'Brien \' \\ "; DROP TABLE audit_events; --`;
    await recordAuditEvent(event(4, { actor: { type: "user", id: "u-4", label: hostile }, resource: { type: "user", id: `id ${hostile}` }, metadata: { [hostile]: hostile } }));
    const [row] = await db().$queryRawUnsafe<{ actor_label: string; resource_id: string; metadata: string }[]>("SELECT actor_label, resource_id, metadata::text AS metadata FROM audit_events");
    expect(row!.actor_label).toBe(hostile);
    expect(row!.resource_id).toBe(`id ${hostile}`);
    expect(JSON.parse(row!.metadata)).toEqual({ [hostile]: hostile });
    expect(await verifyEveryWay()).toMatchObject({ ok: true, eventsChecked: 1 });
  });

  it("verifies events stored before metadata kept its text (jsonb's form), and finds a change in one", async () => {
    await writeMany(30, 3);
    await recordAuditEvent(event(30, { metadata: { b: [1, 2], a: "x", "10": 1.5 }, policyDecisions: [{ z: 1, a: 2 }] }));
    // As the migration leaves a trail written before it: jsonb's form, and the head marking where canonical text starts.
    await asSuperuserBypassingTriggers("UPDATE audit_events SET metadata = metadata::jsonb::json, policy_decisions = policy_decisions::jsonb::json");
    await db().$executeRawUnsafe("UPDATE audit_chain_head SET canonical_json_from = 32");
    const [row] = await db().$queryRawUnsafe<{ metadata: string }[]>("SELECT metadata::text AS metadata FROM audit_events WHERE seq = 31");
    expect(row!.metadata).toBe('{"a": "x", "b": [1, 2], "10": 1.5}');
    expect(await verifyEveryWay()).toMatchObject({ ok: true, eventsChecked: 31 });
    await asSuperuserBypassingTriggers(`UPDATE audit_events SET metadata = '{"a": "x", "b": [1, 3], "10": 1.5}' WHERE seq = 31`);
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: "31" });
  });

  it("holds later events to their exact text: the same values written differently are a change", async () => {
    await writeMany(5, 1);
    await recordAuditEvent(event(5, { metadata: { role: "auditor", amount: 1e16 } }));
    expect(await checkAuditEvent(BigInt(6))).toMatchObject({ hashHolds: true, intact: true });
    // Each parses to the same values as the original, yet SQL, exports and readers see other text.
    for (const forged of ['{"amount":1e16,"role":"auditor"}', '{"amount":10000000000000001,"role":"auditor"}', '{"amount":10000000000000000,"role":"admin","role":"auditor"}', '{"amount":10000000000000000,\n"role":"auditor"}']) {
      await asSuperuserBypassingTriggers(`UPDATE audit_events SET metadata = '${forged}' WHERE seq = 6`);
      expect(await verifyEveryWay(), forged).toMatchObject({ ok: false, firstBadSeq: "6" });
      expect(await checkAuditEvent(BigInt(6)), forged).toMatchObject({ hashHolds: false, intact: false });
    }
  });

  it("an event whose neighbours were deleted to hide a recomputed hash is not intact; a purged predecessor and the newest event are", async () => {
    await writeMany(9, 1);
    expect(await checkAuditEvent(BigInt(9))).toMatchObject({ linkHolds: true, nextLinkHolds: null, intact: true });
    expect(await checkAuditEvent(BigInt(5))).toMatchObject({ linkHolds: true, nextLinkHolds: true, intact: true });
    await asSuperuserBypassingTriggers("DELETE FROM audit_events WHERE seq IN (4, 6)");
    expect(await checkAuditEvent(BigInt(5))).toMatchObject({ hashHolds: true, linkHolds: false, nextLinkHolds: false, intact: false });

    await purgeAuditEvents(new Date(Date.now() + 1000));
    await writeMany(2, 1);
    const first = await db().auditEvent.findFirstOrThrow({ orderBy: { seq: "asc" } });
    expect(await checkAuditEvent(first.seq)).toMatchObject({ linkHolds: true, previousPurged: true, intact: true });
  });
});

describe("retention", () => {
  it("purges old events through the controlled path and the rest still verifies", async () => {
    await writeMany(40, 4);
    await expect.poll(() => db().auditEventText.count()).toBe(40);
    const { purged, anchorSeq } = await purgeAuditEvents(new Date(Date.now() + 1000));
    expect(purged).toBe(40);
    expect(anchorSeq).toBe("40");
    // Their words go with them (the free-text index is derived from the events).
    expect(await db().auditEventText.count()).toBe(0);
    await writeMany(10, 2);
    await expect.poll(() => db().auditEventText.count()).toBe(10);
    const result = await verifyEveryWay();
    expect(result).toMatchObject({ ok: true, eventsChecked: 10, firstSeq: "41", lastSeq: "50" });
    const checkpoint = await db().auditCheckpoint.findUnique({ where: { seq: BigInt(40) } });
    expect(checkpoint?.reason).toBe("purge");
    await expect(db().$executeRawUnsafe("DELETE FROM audit_checkpoints")).rejects.toThrow(/append-only/);
    await expect(db().$executeRawUnsafe("UPDATE audit_checkpoints SET hash = 'x'")).rejects.toThrow(/append-only/);
  });

  it("a purge whose newest old event already has another checkpoint anchors one event earlier, and the chain still verifies", async () => {
    await writeMany(40, 4);
    // A periodic checkpoint on the event the purge would otherwise anchor at.
    const last = await db().auditEvent.findUniqueOrThrow({ where: { seq: BigInt(40) }, select: { hash: true } });
    await insertCheckpoint((text, values) => db().$executeRawUnsafe(text, ...values), BigInt(40), last.hash, "periodic");
    expect(await purgeAuditEvents(new Date(Date.now() + 1000))).toEqual({ purged: 39, anchorSeq: "39" });
    await writeMany(5, 1);
    expect(await verifyEveryWay()).toMatchObject({ ok: true, firstSeq: "40" });
  });

  it("the retention period purges only events older than it, and the purge is itself audited", async () => {
    await writeMany(12, 3);
    const inTwoDays = new Date(Date.now() + 2 * 86_400_000);
    expect(await applyAuditRetention(3, inTwoDays)).toMatchObject({ purged: 0 });
    expect(await applyAuditRetention(1, inTwoDays)).toMatchObject({ purged: 12, anchorSeq: "12" });
    const remaining = await db().auditEvent.findMany({ select: { action: true } });
    expect(remaining).toEqual([{ action: "audit.retention.purge" }]);
    expect(await verifyEveryWay()).toMatchObject({ ok: true, eventsChecked: 1 });
  });

  it("a purge asked for while the chain is walked waits for the walk, which sees no event go missing", async () => {
    await writeMany(600, 16);
    // Every event is older than this cutoff: without turns, the purge would land between the walk's reads.
    const cutoff = new Date(Date.now() + 60_000);
    const [walked, purge] = await asOnTheEmbeddedDatabase(() => Promise.all([verifyChain({ ranges: 6 }), purgeAuditEvents(cutoff)]));
    expect(walked).toMatchObject({ ok: true, eventsChecked: 600 });
    expect(purge).toMatchObject({ purged: 600, anchorSeq: "600" });
    expect(await verifyEveryWay()).toMatchObject({ ok: true, eventsChecked: 0 });
  });

  it("old events removed any other way leave the chain unanchored", async () => {
    await writeMany(20, 2);
    await asSuperuserBypassingTriggers("DELETE FROM audit_events WHERE seq <= 5");
    expect(await verifyEveryWay()).toMatchObject({ ok: false, firstBadSeq: "6" });
  });
});
