import "server-only";
import { randomUUID } from "node:crypto";
import type { QueryResult } from "pg";
import { db, inPgTransaction, pgPool, preparedName, Prisma } from "../db/client";
import { signDetached } from "../crypto";
import { isoUtc, STORED_FIELD_SQL, type StoredEventText } from "./chain-range";
import { eventTextHash, type ChainedEventText } from "./hash";

// Reading and appending chained rows, in the textual forms that the hash covers: seq and risk as
// text, time as ISO UTC, metadata and policy decisions as canonical JSON text in json columns,
// which keep text as written (rows from before that was so: see verify.ts). A batch goes in as
// one JSON document (json_to_recordset): one statement per batch instead of one per row.

/**
 * The batch that reaches each multiple of CHECKPOINT_EVERY signs the chain head at its last
 * event; a batch holds at most MAX_BATCH_EVENTS, so that checkpoint lies within MAX_BATCH_EVENTS
 * of the multiple, and verification holds the chain to it (a checkpoint missing there was removed).
 */
export const CHECKPOINT_EVERY = 1000;
export const MAX_BATCH_EVENTS = 500;
/** Events of a batch sealed while the head lock's round trip is in flight (about 0.4 ms of work). */
const SEALED_DURING_LOCK = 16;

const RECORD_COLUMNS = `seq text, id uuid, at text, type text, action text, outcome text, "actorType" text,
  "actorId" text, "actorLabel" text, "resourceType" text, "resourceId" text, "ipCipher" text, "ipHash" text,
  "userAgentCipher" text, "deviceId" text, location text, "riskScore" text, "policyDecisions" text,
  metadata text, "prevHash" text, hash text`;

export type Unchained = Omit<ChainedEventText, "seq" | "at" | "prevHash">;
/** Where a recorded event landed in the chain. */
export type RecordedEvent = Pick<StoredEventText, "seq" | "id" | "at" | "hash">;

// One message, one round trip (a loopback write is dear on small virtual machines). A statement
// stuck for 20 s gives up (and the head lock with it) rather than stall every writer. The time
// is the database's, and never before the newest event's (should its clock step back): time and
// sequence rise together.
const LOCK_HEAD = `BEGIN; SET LOCAL statement_timeout = 20000;
  SELECT h.seq::text, h.hash,
    ${isoUtc("greatest(clock_timestamp(), (SELECT e.at FROM audit_events e WHERE e.seq = h.seq))")} AS now
  FROM audit_chain_head h WHERE h.id = 1 FOR UPDATE`;

// The statements that append are named (preparedName: each connection plans them once), since
// planning them again for every batch was a tenth of a batch's time.

/** $1: the batch as a JSON array of StoredEventText. */
const INSERT_BATCH = `
    INSERT INTO audit_events (seq, id, at, type, action, outcome, actor_type, actor_id, actor_label, resource_type,
      resource_id, ip_cipher, ip_hash, user_agent_cipher, device_id, location, risk_score, policy_decisions, metadata,
      prev_hash, hash)
    SELECT r.seq::bigint, r.id, r.at::timestamptz, r.type, r.action, r.outcome, r."actorType", r."actorId", r."actorLabel",
      r."resourceType", r."resourceId", r."ipCipher", r."ipHash", r."userAgentCipher", r."deviceId", r.location,
      r."riskScore"::numeric, r."policyDecisions"::json, r.metadata::json, r."prevHash", r.hash
    FROM json_to_recordset($1::json) AS r(${RECORD_COLUMNS})`;

/** Under the head lock: insert the batch and move the head to its last event ($2, $3). */
const INSERT_EVENTS = `WITH inserted AS (${INSERT_BATCH})
  UPDATE audit_chain_head SET seq = $2, hash = $3 WHERE id = 1`;

/**
 * Without a lock held across a round trip: one statement, committed on its own, that moves the
 * head from where this process left it ($4, $5) to the batch's last event ($2, $3) and inserts
 * the batch, or does nothing at all (n = 0) if the head is elsewhere (another instance wrote),
 * locked by someone (the statement never waits), or the batch's time ($6) is not the database's
 * (this process's clock, corrected by what the database said last, is used so that the batch can
 * be hashed before it is sent: it may be up to 5 s behind, never ahead, so any later batch's
 * time, the database's or this corrected one, is at or after it). Answers the database's time.
 */
const APPEND_IF_HEAD_UNMOVED = `
  WITH head AS (
    UPDATE audit_chain_head SET seq = $2, hash = $3
    WHERE id = (SELECT id FROM audit_chain_head WHERE id = 1 AND seq = $4 AND hash = $5
      AND $6::timestamptz BETWEEN clock_timestamp() - interval '5 seconds' AND clock_timestamp()
      FOR UPDATE SKIP LOCKED)
    RETURNING 1),
  inserted AS (${INSERT_BATCH} WHERE EXISTS (SELECT 1 FROM head) RETURNING 1)
  SELECT count(*)::int AS n, ${isoUtc("clock_timestamp()")} AS now FROM inserted`;

type Head = { seq: bigint; hash: string; at: string };

/** Where this process's last batch left the chain head; null before its first. */
let ownHead: Head | null = null;
/** Someone else moved the head between this process's last two batches under the lock. */
let headShared = false;
/** The database's clock minus this process's, as last seen (ms): a little less, by the answer's way back. */
let databaseClockOffset = 0;

const checkpointDue = (from: bigint, to: bigint) => to / BigInt(CHECKPOINT_EVERY) > from / BigInt(CHECKPOINT_EVERY);

/**
 * Appends a batch: chained onto the previous hash, one sequence across every instance, a
 * checkpoint signed when due. While this process is the only writer, the batch is chained onto
 * where its last batch left the head and sent as one statement that checks the head is still
 * there (two round trips fewer, and no lock held across one). Otherwise, and for a batch that
 * reaches a checkpoint, it takes the head lock first.
 */
export async function appendBatch<E>(events: E[], seal: (event: E) => Unchained): Promise<RecordedEvent[]> {
  if (events.length > MAX_BATCH_EVENTS) throw new Error(`appendBatch takes at most ${MAX_BATCH_EVENTS} events`);
  const from = ownHead;
  if (from && !headShared && !checkpointDue(from.seq, from.seq + BigInt(events.length))) {
    const unchained = events.map(seal);
    return (await appendIfHeadUnmoved(unchained, from)) ?? appendUnderLock(unchained, (event) => event);
  }
  return appendUnderLock(events, seal);
}

function chainOnto(unchained: Unchained[], head: Head): StoredEventText[] {
  let seq = head.seq;
  let prevHash = head.hash;
  return unchained.map((event): StoredEventText => {
    seq += BigInt(1);
    const chained: ChainedEventText = { ...event, seq: seq.toString(), at: head.at, prevHash };
    prevHash = eventTextHash(chained);
    return { ...chained, hash: prevHash };
  });
}

const recordedAs = (stored: StoredEventText[]): RecordedEvent[] => stored.map(({ seq, id, at, hash }) => ({ seq, id, at, hash }));
const lastOf = (stored: StoredEventText[]): Head => {
  const last = stored.at(-1)!;
  return { seq: BigInt(last.seq), hash: last.hash, at: last.at };
};

async function appendIfHeadUnmoved(unchained: Unchained[], from: Head): Promise<RecordedEvent[] | null> {
  const now = new Date(Date.now() + databaseClockOffset).toISOString();
  const stored = chainOnto(unchained, { ...from, at: now > from.at ? now : from.at });
  const to = lastOf(stored);
  const { rows } = await pgPool().query<{ n: number; now: string }>({
    name: preparedName("audit_append_if_head_unmoved"),
    text: APPEND_IF_HEAD_UNMOVED,
    values: [JSON.stringify(stored), to.seq.toString(), to.hash, from.seq.toString(), from.hash, to.at],
  });
  if (rows[0]) databaseClockOffset = Date.parse(rows[0].now) - Date.now();
  if (rows[0]?.n !== stored.length) return null;
  ownHead = to;
  return recordedAs(stored);
}

async function appendUnderLock<E>(events: E[], seal: (event: E) => Unchained): Promise<RecordedEvent[]> {
  // Sealing (two encryptions, an HMAC, serialising: ~30 µs an event) overlaps the head lock's
  // round trip, but only for about a round trip's worth of events: the rest are sealed before the
  // lock is asked for, so a large batch does not hold the lock longer.
  const early = events.slice(0, Math.max(0, events.length - SEALED_DURING_LOCK)).map(seal);
  const stored = await inPgTransaction(async (client) => {
    // Several statements in one simple query (BEGIN with the head lock): node-postgres answers with a result for each.
    const locking = client.query(LOCK_HEAD) as unknown as Promise<QueryResult<{ seq: string; hash: string; now: string }>[]>;
    let unchained: Unchained[];
    try {
      unchained = [...early, ...events.slice(early.length).map(seal)];
    } catch (error) {
      await locking.catch(() => undefined);
      throw error;
    }
    const results = await locking;
    const head = results.at(-1)!.rows[0];
    if (!head) throw new Error("audit_chain_head is missing: migrations not applied?");
    databaseClockOffset = Date.parse(head.now) - Date.now();
    const from: Head = { seq: BigInt(head.seq), hash: head.hash, at: head.now };
    const chainedEvents = chainOnto(unchained, from);
    const to = lastOf(chainedEvents);
    await client.query({ name: preparedName("audit_insert_events"), text: INSERT_EVENTS, values: [JSON.stringify(chainedEvents), to.seq.toString(), to.hash] });
    if (checkpointDue(from.seq, to.seq)) await insertCheckpoint((text, values) => client.query(text, values), to.seq, to.hash, "periodic");
    return { chainedEvents, from, to };
  });
  headShared = ownHead !== null && (stored.from.seq !== ownHead.seq || stored.from.hash !== ownHead.hash);
  ownHead = stored.to;
  return recordedAs(stored.chainedEvents);
}

const headRow = () => db().auditChainHead.findUnique({ where: { id: 1 }, select: { seq: true, hash: true, canonicalJsonFrom: true } });

function present<T>(head: T | null): T {
  if (!head) throw new Error("audit_chain_head is missing: migrations not applied?");
  return head;
}

/** The chain head and every checkpoint, read in one snapshot: no batch commits between the two reads. */
export async function readHeadAndCheckpoints() {
  const [head, checkpoints, above] = await db().$transaction(
    [
      headRow(),
      db().auditCheckpoint.findMany({ orderBy: { seq: "asc" }, select: { seq: true, hash: true, reason: true, keyId: true, signature: true } }),
      // The head moves in the transaction that inserts up to it: in one snapshot no event lies
      // beyond it, unless someone inserted one outside the chain (which the walk, reading up to
      // the head, would never see).
      db().$queryRaw<{ seq: bigint | null }[]>`SELECT min(e.seq) AS seq FROM audit_events e, audit_chain_head h WHERE h.id = 1 AND e.seq > h.seq`,
    ],
    { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
  );
  return { head: present(head), checkpoints, firstBeyondHead: above[0]?.seq ?? null };
}

/** The oldest event's sequence number (events before it were purged), or null when there is none. */
export async function oldestEventSeq(): Promise<bigint | null> {
  const [row] = await db().$queryRaw<{ seq: bigint | null }[]>`SELECT min(seq) AS seq FROM audit_events`;
  return row?.seq ?? null;
}

/** The chain head: the newest event's sequence number and hash. It moves in the same transaction as the insert, so every event up to it is committed. */
export async function readChainHead(): Promise<{ seq: bigint; hash: string; canonicalJsonFrom: bigint }> {
  return present(await headRow());
}

export type CheckpointReason = "periodic" | "purge" | "key_rotation";

/**
 * What a checkpoint signs: the event with this sequence number has this hash, and why it was
 * signed, since only a purge's checkpoint may anchor a chain whose older events are gone.
 */
export const checkpointStatement = (seq: bigint | string, hash: string, reason: string) => `gatehouse-audit-checkpoint:v2:${reason}:${seq}:${hash}`;
/** What checkpoints signed before 2026-12-04 said: no reason, so theirs is only as stored. */
export const legacyCheckpointStatement = (seq: bigint | string, hash: string) => `gatehouse-audit-checkpoint:${seq}:${hash}`;

/** Signs and stores a checkpoint (unless that event has one), in the caller's transaction if any (whichever client runs it). */
export async function insertCheckpoint(execute: (text: string, values: unknown[]) => Promise<unknown>, seq: bigint, hash: string, reason: CheckpointReason) {
  const { keyId, signature } = signDetached(checkpointStatement(seq, hash, reason));
  await execute(
    "INSERT INTO audit_checkpoints (id, seq, hash, reason, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (seq) DO NOTHING",
    [randomUUID(), seq.toString(), hash, reason, keyId, signature],
  );
}

// Every column as text, named as in ChainedEvent.
const STORED_EVENT_TEXT = Prisma.raw(Object.entries(STORED_FIELD_SQL).map(([name, sql]) => `${sql} AS "${name}"`).join(", "));

/** The statement that reads events as stored: those matching `condition` (SQL starting with AND), in seq order, at most `limit`. */
export function eventsQuery(condition: Prisma.Sql, order: "asc" | "desc", limit: number): Prisma.Sql {
  // audit_events.seq: a bare "seq" would sort by the text alias.
  return Prisma.sql`SELECT ${STORED_EVENT_TEXT} FROM audit_events WHERE true ${condition}
    ORDER BY audit_events.seq ${Prisma.raw(order === "asc" ? "ASC" : "DESC")} LIMIT ${limit}`;
}

/** Events as stored (see eventsQuery), read on node-postgres. */
export async function selectEvents(condition: Prisma.Sql, order: "asc" | "desc", limit: number): Promise<StoredEventText[]> {
  const query = eventsQuery(condition, order, limit);
  return (await pgPool().query<StoredEventText>(query.text, query.values)).rows;
}

/** Events in seq order after `afterSeq`, at most `limit`, further narrowed by `where`. */
/** Events after `afterSeq`, oldest first, up to the chain head: a row inserted beyond it is not part of the chain (verification names it). */
export const readRange = (afterSeq: bigint, limit: number, where: Prisma.Sql = Prisma.empty) =>
  selectEvents(Prisma.sql`AND seq > ${afterSeq} AND seq <= (SELECT seq FROM audit_chain_head WHERE id = 1) ${where}`, "asc", limit);

/** The events with these sequence numbers. */
export const readEvents = (seqs: bigint[]) => selectEvents(Prisma.sql`AND seq = ANY(${seqs}::bigint[])`, "asc", seqs.length);
