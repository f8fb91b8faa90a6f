import "server-only";
import { randomUUID } from "node:crypto";
import type { QueryResult } from "pg";
import { to as copyTo } from "pg-copy-streams";
import { db, pgPool, Prisma } from "../db/client";
import { signDetached } from "../crypto";
import { CopyRowHasher, COPY_ROW_FIELDS, decodeCopyRow } from "./copy-rows";
import { eventHash, eventTextHash, type ChainedEventText } from "./hash";
import type { StoredEvent } from "./events";

// Reading and appending chained rows, in the textual forms that the hash covers: seq and risk as
// text, time as ISO UTC, metadata and policy decisions as canonical JSON text in json columns,
// which keep text as written (rows from before that was so: see verify.ts). A batch goes in as
// one JSON document (json_to_recordset): one statement per batch instead of one per row.

const isoUtc = (timestamp: string) => `to_char(${timestamp} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

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
/** A stored event as hashed: its JSON fields as their stored canonical text. */
export type StoredEventText = ChainedEventText & { hash: string };
/** Where a recorded event landed in the chain. */
export type RecordedEvent = Pick<StoredEventText, "seq" | "id" | "at" | "hash">;

// One message, one round trip (a loopback write is dear on small virtual machines). A statement
// stuck for 20 s gives up (and the head lock with it) rather than stall every writer.
const LOCK_HEAD = `BEGIN; SET LOCAL statement_timeout = 20000;
  SELECT seq::text, hash, ${isoUtc("clock_timestamp()")} AS now FROM audit_chain_head WHERE id = 1 FOR UPDATE`;

const INSERT_EVENTS = `
  WITH inserted AS (
    INSERT INTO audit_events (seq, id, at, type, action, outcome, actor_type, actor_id, actor_label, resource_type,
      resource_id, ip_cipher, ip_hash, user_agent_cipher, device_id, location, risk_score, policy_decisions, metadata,
      search, prev_hash, hash)
    SELECT r.seq::bigint, r.id, r.at::timestamptz, r.type, r.action, r.outcome, r."actorType", r."actorId", r."actorLabel",
      r."resourceType", r."resourceId", r."ipCipher", r."ipHash", r."userAgentCipher", r."deviceId", r.location,
      r."riskScore"::numeric, r."policyDecisions"::json, r.metadata::json,
      to_tsvector('simple', concat_ws(' ', r.action, r."actorLabel", r."actorId", r."resourceType", r."resourceId", r.location))
        || json_to_tsvector('simple', r.metadata::json, '["string", "numeric"]'),
      r."prevHash", r.hash
    FROM json_to_recordset($1::json) AS r(${RECORD_COLUMNS}))
  UPDATE audit_chain_head SET seq = $2, hash = $3 WHERE id = 1`;

/**
 * Appends a batch in one transaction: lock the head row (one sequence across every instance),
 * chain each event onto the previous hash, insert and move the head in one statement, sign a
 * checkpoint when due. On a node-postgres client rather than a Prisma interactive transaction,
 * which cost twice as much per commit (bench/README.md, W2).
 */
export async function appendBatch<E>(events: E[], seal: (event: E) => Unchained): Promise<RecordedEvent[]> {
  if (events.length > MAX_BATCH_EVENTS) throw new Error(`appendBatch takes at most ${MAX_BATCH_EVENTS} events`);
  // Sealing (two encryptions, an HMAC, serialising: ~30 µs an event) overlaps the head lock's
  // round trip, but only for about a round trip's worth of events: the rest are sealed before the
  // lock is asked for, so a large batch does not hold the lock longer.
  const early = events.slice(0, Math.max(0, events.length - SEALED_DURING_LOCK)).map(seal);
  const client = await pgPool().connect();
  let stored: StoredEventText[];
  try {
    // Several statements in one simple query: node-postgres answers with a result for each.
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
    let seq = BigInt(head.seq);
    let prevHash = head.hash;
    stored = unchained.map((event) => {
      seq += BigInt(1);
      const chained: ChainedEventText = { ...event, seq: seq.toString(), at: head.now, prevHash };
      prevHash = eventTextHash(chained);
      return { ...chained, hash: prevHash };
    });
    await client.query(INSERT_EVENTS, [JSON.stringify(stored), seq.toString(), prevHash]);
    if (seq / BigInt(CHECKPOINT_EVERY) > BigInt(head.seq) / BigInt(CHECKPOINT_EVERY)) {
      await insertCheckpoint((text, values) => client.query(text, values), seq, prevHash, "periodic");
    }
    await client.query("COMMIT");
  } catch (error) {
    // A connection that cannot even roll back is dropped, not handed to the next caller.
    const broken = await client.query("ROLLBACK").then(() => undefined, (rollbackError: Error) => rollbackError);
    client.release(broken);
    throw error;
  }
  client.release();
  return stored.map(({ seq, id, at, hash }) => ({ seq, id, at, hash }));
}

const headRow = () => db().auditChainHead.findUnique({ where: { id: 1 }, select: { seq: true, hash: true, canonicalJsonFrom: true } });

function present<T>(head: T | null): T {
  if (!head) throw new Error("audit_chain_head is missing: migrations not applied?");
  return head;
}

/** The chain head and every checkpoint, read in one snapshot: no batch commits between the two reads. */
export async function readHeadAndCheckpoints() {
  const [head, checkpoints] = await db().$transaction(
    [headRow(), db().auditCheckpoint.findMany({ orderBy: { seq: "asc" }, select: { seq: true, hash: true, reason: true, keyId: true, signature: true } })],
    { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
  );
  return { head: present(head), checkpoints };
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

/** Each stored field as SQL giving its text as hashed: node-postgres (or COPY) parses nothing, and the row is hashed as it comes. */
export const STORED_FIELD_SQL: Readonly<Record<keyof StoredEventText, string>> = {
  seq: "seq::text", id: "id::text", at: isoUtc("at"), type: "type", action: "action", outcome: "outcome",
  actorType: "actor_type", actorId: "actor_id", actorLabel: "actor_label", resourceType: "resource_type",
  resourceId: "resource_id", ipCipher: "ip_cipher", ipHash: "ip_hash", userAgentCipher: "user_agent_cipher",
  deviceId: "device_id", location: "location", riskScore: "risk_score::text", policyDecisions: "policy_decisions::text",
  metadata: "metadata::text", prevHash: "prev_hash", hash: "hash",
};

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
export const readRange = (afterSeq: bigint, limit: number, where: Prisma.Sql = Prisma.empty) => selectEvents(Prisma.sql`AND seq > ${afterSeq} ${where}`, "asc", limit);

/** The events with these sequence numbers. */
export const readEvents = (seqs: bigint[]) => selectEvents(Prisma.sql`AND seq = ANY(${seqs}::bigint[])`, "asc", seqs.length);

/** A stored event with its JSON fields parsed: for reading, and for hashing rows stored in jsonb's form. */
export function parseStoredEvent(row: StoredEventText): StoredEvent {
  return { ...row, metadata: JSON.parse(row.metadata) as Record<string, unknown>, policyDecisions: row.policyDecisions === null ? null : (JSON.parse(row.policyDecisions) as unknown) };
}

/**
 * The row's hash, recomputed from its stored text: the exact text it was hashed over. Rows from
 * before metadata was kept so (below `canonicalJsonFrom`, migration
 * 20261203150000_audit_json_as_written) hold jsonb's form and are hashed from their parsed JSON.
 * Later rows get no such second chance: a different text with the same meaning (a duplicate key,
 * an extra digit, a raw newline) is a change, since SQL, exports and the console read the text.
 */
export function storedHashHolds(row: StoredEventText, canonicalJsonFrom: bigint): boolean {
  const { hash, ...chained } = row;
  if (eventTextHash(chained) === hash) return true;
  if (BigInt(row.seq) >= canonicalJsonFrom) return false;
  const { hash: _hash, ...parsed } = parseStoredEvent(row);
  return eventHash(parsed) === hash;
}

/** What the chain walk needs of each event, and whether its stored hash holds; metadata only for the action asked for. */
export type WalkedEvent = Pick<StoredEventText, "seq" | "at" | "action" | "outcome" | "prevHash" | "hash"> & { metadata: string | null; holds: boolean };

const NEWLINE = 10;
const field = (name: keyof StoredEventText) => COPY_ROW_FIELDS.indexOf(name);
const [SEQ, AT, ACTION, OUTCOME, METADATA, PREV_HASH, HASH] = (["seq", "at", "action", "outcome", "metadata", "prevHash", "hash"] as const).map(field) as [number, number, number, number, number, number, number];

/**
 * Every event up to `upToSeq`, oldest first, each handed to `visit` with whether its stored hash
 * holds; stops early when `visit` returns false. Read as one COPY (no per-batch statements, no
 * per-field strings) and hashed from its bytes (copy-rows.ts); a row the fast path does not take,
 * or whose hash it finds changed, is decoded and judged by storedHashHolds. Metadata is decoded
 * only for events of the action `metadataOf`.
 */
export async function walkStoredEvents(upToSeq: bigint, canonicalJsonFrom: bigint, { metadataOf }: { metadataOf: string }, visit: (event: WalkedEvent) => boolean): Promise<void> {
  const columns = COPY_ROW_FIELDS.map((name) => STORED_FIELD_SQL[name]).join(", ");
  // COPY takes no parameters: the bound is a bigint, written out as its digits.
  const sql = `COPY (SELECT ${columns} FROM audit_events WHERE seq <= ${upToSeq.toString()} ORDER BY audit_events.seq) TO STDOUT`;
  const hasher = new CopyRowHasher();
  const client = await pgPool().connect();
  let stopped = false;
  try {
    let carry: Buffer | null = null;
    for await (const piece of client.query(copyTo(sql))) {
      // A row can be split between two pieces: its start waits in `carry`.
      const chunk: Buffer = carry ? Buffer.concat([carry, piece as Buffer]) : (piece as Buffer);
      carry = null;
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
        if (!visit(walkedEvent(hasher, chunk, start, end, canonicalJsonFrom, metadataOf))) {
          stopped = true;
          break;
        }
        start = end + 1;
      }
      if (stopped) break;
      if (start < chunk.length) carry = chunk.subarray(start);
    }
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
  // Left in the middle of a COPY, the connection is closed rather than handed to the next caller.
  client.release(stopped);
}

const fieldText = (hasher: CopyRowHasher, buf: Buffer, i: number) => buf.toString("utf8", hasher.starts[i]!, hasher.ends[i]!);

function walkedEvent(hasher: CopyRowHasher, buf: Buffer, start: number, end: number, canonicalJsonFrom: bigint, metadataOf: string): WalkedEvent {
  const recomputed = hasher.hash(buf, start, end);
  const hash = recomputed === null ? null : fieldText(hasher, buf, HASH);
  if (hash !== null && recomputed === hash) {
    const action = fieldText(hasher, buf, ACTION);
    const metadata = action === metadataOf ? fieldText(hasher, buf, METADATA) : null;
    return {
      seq: fieldText(hasher, buf, SEQ), at: fieldText(hasher, buf, AT), action, outcome: fieldText(hasher, buf, OUTCOME), metadata,
      prevHash: fieldText(hasher, buf, PREV_HASH), hash, holds: true,
    };
  }
  const row = decodeCopyRow(buf.toString("utf8", start, end));
  return { ...row, metadata: row.action === metadataOf ? row.metadata : null, holds: storedHashHolds(row, canonicalJsonFrom) };
}
