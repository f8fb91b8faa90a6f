import { beforeEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { db, pgPool } from "@/lib/db/client";
import { keyRing } from "@/lib/crypto";
import { auditFiltersSchema, checkAuditEvent, countAuditEvents, exportAuditEvents, findExportManifest, parseSeq, recordAuditEvent, searchAuditEvents, AUDIT_PAGE_SIZE, type ExportFormat } from "@/lib/audit";
import { verifyExport } from "@/lib/audit/manifest";
import { audit, userContext } from "@/lib/audit/context";
import { indexPendingEvents } from "@/lib/audit/text-index";
import { resetDatabase } from "../support/db";
import { makeUser } from "../support/factories";

beforeEach(resetDatabase);

const filters = (raw: Record<string, string>) => auditFiltersSchema.parse(raw);

async function seed() {
  await recordAuditEvent({ type: "authentication", action: "auth.sign_in", outcome: "failure", actor: { type: "user", label: "eve@example.test" }, client: { ip: "203.0.113.5", userAgent: "curl/8" }, metadata: { method: "password" } });
  await recordAuditEvent({ type: "authentication", action: "auth.sign_in", outcome: "success", actor: { type: "user", id: "7d0b4a46-3f51-4c59-9b7a-2b3c4d5e6f70", label: "alice@example.test" }, client: { ip: "198.51.100.1" }, resource: { type: "session", id: "s-1" } });
  await recordAuditEvent({ type: "admin", action: "user.roles.update", outcome: "success", actor: { type: "user", label: "admin@example.test" }, resource: { type: "user", id: "u-42" }, metadata: { granted: ["auditor"], note: "quarterly review" } });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const publicKeyPem = () => keyRing().signing.publicKey.export({ format: "pem", type: "spki" }).toString();

describe("audit search", () => {
  it("filters by each field, newest first, with sensitive fields decrypted for the reader", async () => {
    await seed();
    const all = await searchAuditEvents(filters({}));
    expect(all.events.map((e) => e.seq)).toEqual(["3", "2", "1"]);
    expect(all.events[2]).toMatchObject({ ip: "203.0.113.5", userAgent: "curl/8" });

    const seqs = async (raw: Record<string, string>) => (await searchAuditEvents(filters(raw))).events.map((e) => e.seq);
    expect(await seqs({ outcome: "failure" })).toEqual(["1"]);
    expect(await seqs({ type: "admin" })).toEqual(["3"]);
    expect(await seqs({ action: "auth.sign_in" })).toEqual(["2", "1"]);
    expect(await seqs({ actor: "ALICE@example.test" })).toEqual(["2"]);
    expect(await seqs({ actor: "7d0b4a46-3f51-4c59-9b7a-2b3c4d5e6f70" })).toEqual(["2"]);
    expect(await seqs({ ip: "203.0.113.5" })).toEqual(["1"]);
    expect(await seqs({ resourceType: "user", resourceId: "u-42" })).toEqual(["3"]);
    expect(await seqs({ q: "quarterly" })).toEqual(["3"]);
    expect(await seqs({ from: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect(await seqs({ to: new Date(Date.now() - 60_000).toISOString() })).toEqual([]);
    expect(await seqs({ from: new Date(Date.now() - 60_000).toISOString().slice(0, 16) })).toEqual(["3", "2", "1"]);
  });

  it("an email finds its account's events by id too (written without the address, or before it changed), and labels as shown", async () => {
    const alice = await makeUser({ email: "alice@example.test" });
    const before = { type: "user" as const, id: alice.id, label: "alice.old@example.test" };
    await recordAuditEvent({ type: "admin", action: "user.email.update", outcome: "success", actor: before });
    await recordAuditEvent({ type: "session", action: "session.sign_out", outcome: "success", actor: { type: "user", id: alice.id, label: null } });
    // An unknown address typed at sign-in, before the account had it: recorded by the address alone.
    await recordAuditEvent({ type: "authentication", action: "auth.sign_in", outcome: "failure", actor: { type: "user", label: "alice@example.test" } });
    await recordAuditEvent({ type: "incident", action: "incident.lock_account", outcome: "success", actor: { type: "system", label: "playbook: Lock Account" } });
    await recordAuditEvent({ type: "session", action: "session.sign_out", outcome: "success", actor: { type: "user", id: randomUUID(), label: "bob@example.test" } });
    const seqs = async (actor: string) => (await searchAuditEvents(filters({ actor }))).events.map((e) => e.action);
    expect(await seqs("Alice@Example.test")).toEqual(["auth.sign_in", "session.sign_out", "user.email.update"]);
    expect(await seqs("alice.old@example.test")).toEqual(["user.email.update"]);
    expect(await seqs("playbook: Lock Account")).toEqual(["incident.lock_account"]);
    expect(await countAuditEvents(filters({ actor: "alice@example.test" }))).toBe(3);
  });

  it("a person's events carry the browser their session was signed in from", async () => {
    await audit(userContext({ id: randomUUID(), email: "dev@example.test", deviceId: "5a7e0c1e-0000-4000-8000-00000000d001" }, { ip: "192.0.2.8", userAgent: "Firefox" }), { type: "admin", action: "user.roles.update", outcome: "success" });
    expect((await searchAuditEvents(filters({ actor: "dev@example.test" }))).events[0]).toMatchObject({ deviceId: "5a7e0c1e-0000-4000-8000-00000000d001", ip: "192.0.2.8" });
  });

  it("answers for the last possible sequence number without failing, and names a select's bad value", async () => {
    await seed();
    expect(await checkAuditEvent(BigInt("9223372036854775807"))).toBeNull();
    const parsed = auditFiltersSchema.safeParse({ type: "nonsense", outcome: "maybe" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => [i.path[0], i.message])).toEqual([["type", "Choose a type from the list."], ["outcome", "Choose an outcome from the list."]]);
    expect(auditFiltersSchema.parse({ type: "", outcome: "" })).toEqual({});
  });

  it("pages by keyset without skipping or repeating", async () => {
    for (let i = 0; i < AUDIT_PAGE_SIZE + 7; i++) await recordAuditEvent({ type: "admin", action: "test.event", outcome: "success", actor: { type: "system" } });
    const first = await searchAuditEvents(filters({}));
    expect(first.events).toHaveLength(AUDIT_PAGE_SIZE);
    const second = await searchAuditEvents(filters({}), BigInt(first.nextBefore!));
    expect(second.events).toHaveLength(7);
    expect(second.nextBefore).toBeNull();
    expect(new Set([...first.events, ...second.events].map((e) => e.seq)).size).toBe(AUDIT_PAGE_SIZE + 7);
  });

  it("finds an actor's, a resource's and an address's events with the events' own filters and a time range, newest first, paged without skipping or repeating", async () => {
    const actor = { type: "user" as const, id: randomUUID(), label: "carol@example.test" };
    // Every second event is Carol's, two in three of those admin events: more than a page.
    const total = 5 * AUDIT_PAGE_SIZE;
    for (let i = 1; i <= total; i++) {
      const mine = i % 2 === 0;
      await recordAuditEvent({
        type: i % 3 ? "admin" : "session", action: "test.event", outcome: i % 5 ? "success" : "failure",
        actor: mine ? actor : { type: "system" }, resource: { type: "user", id: mine ? "u-carol" : "u-other" }, client: { ip: mine ? "192.0.2.7" : "192.0.2.8" },
      });
    }
    const expected = Array.from({ length: total }, (_, i) => total - i).filter((seq) => seq % 2 === 0 && seq % 3 !== 0).map(String);
    const ways: Record<string, string>[] = [{ actor: actor.id }, { actor: actor.label }, { resourceId: "u-carol" }, { ip: "192.0.2.7" }, { ip: "192.0.2.0/24", resourceId: "u-carol" }];
    for (const mine of ways) {
      const first = await searchAuditEvents(filters({ ...mine, type: "admin" }));
      expect(first.events).toHaveLength(AUDIT_PAGE_SIZE);
      const second = await searchAuditEvents(filters({ ...mine, type: "admin" }), BigInt(first.nextBefore!));
      expect([...first.events, ...second.events].map((e) => e.seq), JSON.stringify(mine)).toEqual(expected);
      const failures = await searchAuditEvents(filters({ ...mine, type: "admin", outcome: "failure" }));
      expect(failures.events.map((e) => e.seq)).toEqual(expected.filter((seq) => Number(seq) % 5 === 0));
    }
    // A time range is a range of sequence numbers: from the 40th event on, up to the 100th.
    const [{ at: from }] = (await db().$queryRawUnsafe<{ at: Date }[]>("SELECT at FROM audit_events WHERE seq = 40")) as [{ at: Date }];
    const [{ at: to }] = (await db().$queryRawUnsafe<{ at: Date }[]>("SELECT at FROM audit_events WHERE seq = 101")) as [{ at: Date }];
    const within = await searchAuditEvents(filters({ actor: actor.id, from: from.toISOString(), to: to.toISOString() }));
    expect(within.events.length).toBeGreaterThan(0);
    for (const e of within.events) expect(Date.parse(e.at)).toBeGreaterThanOrEqual(from.getTime());
    expect(within.events.every((e) => Date.parse(e.at) < to.getTime() && e.actorId === actor.id)).toBe(true);
    expect(await countAuditEvents({ actor: actor.id, type: "admin" })).toBe(expected.length);
  });

  it("finds free text newest first across search windows, paging without skipping or repeating", async () => {
    const total = 2 * AUDIT_PAGE_SIZE + 30;
    for (let i = 1; i <= total; i++) {
      await recordAuditEvent({ type: "admin", action: "test.event", outcome: i % 3 ? "success" : "failure", actor: { type: "system" }, metadata: { note: i % 2 ? "haystack" : "needle in it" } });
    }
    const expected = Array.from({ length: total }, (_, i) => total - i).filter((seq) => seq % 2 === 0).map(String);
    // A first window of 4 events makes the search run through windows of 4, 16, 64, 256.
    const first = await searchAuditEvents(filters({ q: "needle" }), undefined, { firstWindow: BigInt(4) });
    const second = await searchAuditEvents(filters({ q: "needle" }), BigInt(first.nextBefore!), { firstWindow: BigInt(4) });
    expect([...first.events, ...second.events].map((e) => e.seq)).toEqual(expected);
    expect(second.nextBefore).toBeNull();
    const failures = await searchAuditEvents(filters({ q: "needle", outcome: "failure" }), undefined, { firstWindow: BigInt(4) });
    expect(failures.events.map((e) => e.seq)).toEqual(expected.filter((seq) => Number(seq) % 3 === 0));
  });

  it("finds free text in events the index has not caught up with yet", async () => {
    const total = 90;
    for (let i = 1; i <= total; i++) {
      await recordAuditEvent({ type: "admin", action: "test.event", outcome: "success", actor: { type: "system" }, metadata: { note: i % 2 ? "haystack" : "needle in it" } });
    }
    const expected = Array.from({ length: total }, (_, i) => total - i).filter((seq) => seq % 2 === 0).map(String);
    const indexed = async () => (await db().$queryRaw<{ seq: bigint }[]>`SELECT seq FROM audit_event_text ORDER BY seq`).map((r) => Number(r.seq));
    const found = async () => {
      const first = await searchAuditEvents(filters({ q: "needle" }), undefined, { firstWindow: BigInt(8) });
      const rest = first.nextBefore ? await searchAuditEvents(filters({ q: "needle" }), BigInt(first.nextBefore), { firstWindow: BigInt(8) }) : { events: [] };
      return [...first.events, ...rest.events].map((e) => e.seq);
    };
    const exported = async () => {
      const { stream } = await exportAuditEvents({ actor: { type: "user", id: randomUUID() }, filters: filters({ q: "needle", type: "admin" }), format: "jsonl" });
      return (await drain(stream)).toString().trim().split("\n").map((line) => JSON.parse(line).seq as string).reverse();
    };

    // The indexer (after each commit) gets there by itself, in order and with no gaps.
    await expect.poll(indexed, { timeout: 5_000 }).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(await found()).toEqual(expected);

    // The index 30 events behind, and held there (as another instance's indexer holds its turn):
    // a search waits for the turn, indexes what is pending, and finds every event, none twice.
    const holder = await pgPool().connect();
    let searched: Promise<string[]> | undefined;
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext('gatehouse.audit_event_text'))");
      // The index is append-only: its newest entries are taken back behind the trigger, as if never written.
      await holder.query("BEGIN; SET LOCAL session_replication_role = replica");
      await holder.query("DELETE FROM audit_event_text WHERE seq > $1", [total - 30]);
      await holder.query("COMMIT");
      expect(await indexPendingEvents()).toBeNull();
      searched = found();
      const waited = await Promise.race([searched.then(() => false), new Promise((resolve) => setTimeout(() => resolve(true), 300))]);
      expect(waited).toBe(true);
    } finally {
      await holder.query("SELECT pg_advisory_unlock(hashtext('gatehouse.audit_event_text'))");
      holder.release();
    }
    expect(await searched).toEqual(expected);
    expect(await indexed()).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(await countAuditEvents({ q: "needle" })).toBe(expected.length);
    expect(await countAuditEvents({ q: "needle haystack" })).toBe(0);
    // Type and outcome are matched inside the text index too, and its reserved words cannot be typed.
    expect(await countAuditEvents({ q: "needle", type: "admin", outcome: "success" })).toBe(expected.length);
    expect(await countAuditEvents({ q: "needle", outcome: "failure" })).toBe(0);
    expect(await countAuditEvents({ q: "needle", type: "export" })).toBe(0);
    expect(await countAuditEvents({ q: "~outcome:success" })).toBe(0);
    expect(await exported()).toEqual(expected);
    // The export's own events name the word in their filters: the next search finds them too.
    expect(await found()).toEqual([String(total + 2), String(total + 1), ...expected]);
  });

  it("finds an address however it is written, and every address of a range up to 4,096", async () => {
    const signIn = (ip: string) => recordAuditEvent({ type: "authentication", action: "auth.sign_in", outcome: "failure", actor: { type: "system" }, client: { ip } });
    // As server.ts writes them: IPv4-mapped addresses as IPv4, IPv6 compressed in lower case.
    for (const ip of ["203.0.113.0", "203.0.113.77", "203.0.113.255", "203.0.114.1", "2001:db8::1", "2001:db8::fff", "2001:db8::1000"]) await signIn(ip);
    const seqs = async (ip: string) => (await searchAuditEvents(filters({ ip }))).events.map((e) => e.ip);

    expect(await seqs("2001:0DB8:0:0::0001")).toEqual(["2001:db8::1"]);
    expect(await seqs("::ffff:203.0.113.77")).toEqual(["203.0.113.77"]);
    expect(await seqs("203.0.113.77/32")).toEqual(["203.0.113.77"]);
    expect(await seqs("203.0.113.200/24")).toEqual(["203.0.113.255", "203.0.113.77", "203.0.113.0"]);
    expect(await seqs("203.0.112.0/20")).toEqual(["203.0.114.1", "203.0.113.255", "203.0.113.77", "203.0.113.0"]);
    expect(await seqs("::ffff:203.0.113.0/120")).toEqual(["203.0.113.255", "203.0.113.77", "203.0.113.0"]);
    expect(await seqs("2001:db8::/116")).toEqual(["2001:db8::fff", "2001:db8::1"]);
    // The filter as applied (what an export's manifest names) is the canonical network.
    expect(filters({ ip: "203.0.113.200/24" }).ip).toBe("203.0.113.0/24");
    // Together with other filters, and paged by keyset without skipping or repeating.
    for (let i = 0; i < AUDIT_PAGE_SIZE + 10; i++) await signIn(`203.0.113.${1 + (i % 50)}`);
    const first = await searchAuditEvents(filters({ ip: "203.0.113.0/24" }));
    const second = await searchAuditEvents(filters({ ip: "203.0.113.0/24" }), BigInt(first.nextBefore!));
    const paged = [...first.events, ...second.events].map((e) => e.seq);
    expect(paged).toHaveLength(AUDIT_PAGE_SIZE + 10 + 3);
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged).toEqual([...paged].sort((a, b) => Number(b) - Number(a)));
    expect((await searchAuditEvents(filters({ ip: "203.0.113.0/24", outcome: "success" }))).events).toEqual([]);
    expect((await searchAuditEvents(filters({ ip: "203.0.113.0/24", q: "auth.sign_in" }))).events.length).toBe(AUDIT_PAGE_SIZE);

    for (const ip of ["203.0.113", "not an address", "203.0.113.0/19", "2001:db8::/64", "203.0.113.0/33"]) {
      const parsed = auditFiltersSchema.safeParse({ ip });
      expect(parsed.success, ip).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/4,096 addresses/);
    }
  });

  it("refuses malformed filters", () => {
    expect(auditFiltersSchema.safeParse({ outcome: "maybe" }).success).toBe(false);
    expect(auditFiltersSchema.safeParse({ from: "yesterday-ish" }).success).toBe(false);
    expect(auditFiltersSchema.safeParse({ q: "x".repeat(500) }).success).toBe(false);
    // Dates JavaScript takes and PostgreSQL does not, and sequence numbers beyond bigint.
    expect(auditFiltersSchema.safeParse({ from: "-010000-01-01T00:00" }).success).toBe(false);
    expect(auditFiltersSchema.safeParse({ to: "+275760-09-13T00:00:00Z" }).success).toBe(false);
    expect([parseSeq("9223372036854775807"), parseSeq("9999999999999999999"), parseSeq("-1"), parseSeq(undefined)]).toEqual([BigInt("9223372036854775807"), null, null, null]);
  });
});

describe("audit export", () => {
  const actor = { type: "user" as const, id: randomUUID(), label: "auditor@example.test" };

  it.each<ExportFormat>(["csv", "jsonl"])("a %s export verifies against its signed manifest, and one changed byte fails", async (format) => {
    await seed();
    const { id, stream } = await exportAuditEvents({ actor, filters: filters({ type: "authentication" }), format });
    const file = await drain(stream);
    const manifest = (await findExportManifest(id))!;
    const head = await db().auditChainHead.findUniqueOrThrow({ where: { id: 1 } });
    // The trail as it stood when the export began (its start event came after): signed with the rows.
    expect(manifest).toMatchObject({ rowCount: 2, first: { seq: "1" }, last: { seq: "2" }, filters: { type: "authentication" }, chainHead: { seq: String(head.seq - BigInt(2)) } });
    expect(verifyExport(file, { ...manifest, chainHead: { seq: "1", hash: manifest.chainHead!.hash } }, publicKeyPem()).problems).toContain("manifest signature is not valid");
    expect(verifyExport(file, manifest, publicKeyPem())).toEqual({ ok: true, problems: [] });
    expect(file.toString()).toContain("203.0.113.5");

    const tampered = Buffer.from(file);
    const at = tampered.length - 5;
    tampered.writeUInt8(tampered.readUInt8(at) ^ 1, at);
    expect(verifyExport(tampered, manifest, publicKeyPem()).ok).toBe(false);
    expect(verifyExport(file, { ...manifest, rowCount: 1 }, publicKeyPem()).problems).toContain("manifest signature is not valid");
  });

  it("is itself an audit event, and escapes spreadsheet formulas in CSV", async () => {
    await recordAuditEvent({ type: "authentication", action: "auth.sign_in", outcome: "failure", actor: { type: "user", label: "=HYPERLINK(\"http://evil\")" } });
    const client = { ip: "192.0.2.77", userAgent: "Auditor's browser" };
    const { id, stream } = await exportAuditEvents({ actor, client, filters: filters({}), format: "csv" });
    const csv = (await drain(stream)).toString();
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"")"`);
    const exportEvent = await db().auditEvent.findFirst({ where: { action: "audit.export" } });
    expect(exportEvent).toMatchObject({ type: "export", resourceId: id, actorId: actor.id, outcome: "success" });
    // Where the decrypted trail went: both of the export's events carry the downloader's address and browser.
    const fromThere = await searchAuditEvents(filters({ ip: client.ip, type: "export" }));
    expect(fromThere.events.map((e) => [e.action, e.userAgent])).toEqual([["audit.export", client.userAgent], ["audit.export.start", client.userAgent]]);
    expect(exportEvent?.metadata).toMatchObject({ rowCount: 1, format: "csv" });
  });

  it("its manifest names the filters as applied, not whatever the request carried", async () => {
    await seed();
    const applied = auditFiltersSchema.parse({ type: "authentication", from: "2026-01-01T00:00", Actor: "someone", before: "2" });
    const { id, stream } = await exportAuditEvents({ actor, filters: applied, format: "jsonl" });
    await drain(stream);
    expect((await findExportManifest(id))!.filters).toEqual({ type: "authentication", from: "2026-01-01T00:00:00.000Z" });
  });

  it("a caller who stops reading part way is audited with what it took", async () => {
    await seed();
    const { id, stream } = await exportAuditEvents({ actor, filters: filters({}), format: "jsonl" });
    const reader = stream.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    // Whatever the read it had asked for next brings, the export stays cancelled and unsigned.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const events = await db().auditEvent.findMany({ where: { action: { in: ["audit.export.start", "audit.export"] }, resourceId: id }, orderBy: { seq: "asc" } });
    // Started in the chain before the first row left, and ended as cancelled.
    expect(events).toMatchObject([{ action: "audit.export.start", metadata: { format: "jsonl" } }, { action: "audit.export", outcome: "failure", metadata: { reason: "cancelled", rowsWritten: 3, format: "jsonl" } }]);
    expect(await findExportManifest(id)).toBeNull();
  });

  it("leaves out events written after it started (a consistent snapshot)", async () => {
    await seed();
    const { id, stream } = await exportAuditEvents({ actor, filters: filters({}), format: "jsonl" });
    await recordAuditEvent({ type: "admin", action: "test.late", outcome: "success", actor: { type: "system" } });
    const lines = (await drain(stream)).toString().trim().split("\n");
    expect(lines).toHaveLength(3);
    expect((await findExportManifest(id))!.rowCount).toBe(3);
  });
});
