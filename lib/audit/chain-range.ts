// One stretch of the chain read and checked on its own: every event's hash recomputed, each linked
// to the one before it, no gaps. What only the whole chain can judge (the link into the stretch's
// first event, signed checkpoints, signing-key periods) is handed back in a small report for
// verify.ts to join in order. No "server-only" and no database client of its own: the worker
// threads of verify.ts run this file, each on its own connection (chain-range-worker.ts).
import type { ClientBase } from "pg";
import { to as copyTo } from "pg-copy-streams";
import { CopyRowHasher, COPY_ROW_FIELDS, decodeCopyRow } from "./copy-rows";
import { eventHash, eventTextHash, type ChainedEventText } from "./hash";
import type { StoredEvent } from "./events";

/** How a range's connection names itself in pg_stat_activity, so an operator can tell a verification's connections apart. */
export const RANGE_CONNECTION_NAME = "gatehouse-audit-verify";

/** A stored event as hashed: its JSON fields as their stored canonical text. */
export type StoredEventText = ChainedEventText & { hash: string };

/** A timestamp column as the ISO UTC text that is hashed. */
export const isoUtc = (timestamp: string) => `to_char(${timestamp} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Each stored field as SQL giving its text as hashed: node-postgres (or COPY) parses nothing, and the row is hashed as it comes. */
export const STORED_FIELD_SQL: Readonly<Record<keyof StoredEventText, string>> = {
  seq: "seq::text", id: "id::text", at: isoUtc("at"), type: "type", action: "action", outcome: "outcome",
  actorType: "actor_type", actorId: "actor_id", actorLabel: "actor_label", resourceType: "resource_type",
  resourceId: "resource_id", ipCipher: "ip_cipher", ipHash: "ip_hash", userAgentCipher: "user_agent_cipher",
  deviceId: "device_id", location: "location", riskScore: "risk_score::text", policyDecisions: "policy_decisions::text",
  metadata: "metadata::text", prevHash: "prev_hash", hash: "hash",
};

// COPY writes every value as its type's text output, which is what the casts above give
// node-postgres: without them PostgreSQL spends a third less CPU on the walk's COPY.
const COPY_FIELD_SQL: Readonly<Record<keyof StoredEventText, string>> = {
  ...STORED_FIELD_SQL, seq: "seq", id: "id", riskScore: "risk_score", policyDecisions: "policy_decisions", metadata: "metadata",
};

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
type WalkedEvent = Pick<StoredEventText, "seq" | "at" | "action" | "outcome" | "prevHash" | "hash"> & { metadata: string | null; holds: boolean };

/** The stretch (after, upTo] of sequence numbers (from the very first when `after` is null); sequence numbers travel as text (they are bigints). */
export type RangeTask = {
  after: string | null;
  upTo: string;
  canonicalJsonFrom: string;
  /** Events of this action are reported with their metadata (key rotations). */
  metadataOf: string;
  /** Events that have a signed checkpoint: reported with their hash. */
  checkpointSeqs: string[];
};

/** An event the whole chain's checks need: a checkpoint's or one of the action asked for. */
export type NotableEvent = Pick<WalkedEvent, "seq" | "hash" | "action" | "outcome" | "metadata"> & {
  /** Events of the range checked before this one. */
  index: number;
  /** The latest `at` in the range up to and including this event. */
  latestAt: string;
};

export type RangeReport = {
  /** Events that passed every check of the range. */
  count: number;
  first: Pick<WalkedEvent, "seq" | "prevHash" | "at"> | null;
  last: Pick<WalkedEvent, "seq" | "hash"> | null;
  /** The latest `at` in the range ("" if empty): the fixed-width ISO form sorts as time does. */
  latestAt: string;
  /** In sequence order, all before `failure`. */
  notable: NotableEvent[];
  /** The first break inside the range, where the walk stopped; the first event's link is the caller's to check. */
  failure: { seq: string; problem: string } | null;
};

/** Checks events handed to it in order (visit returns false at the first break) and reports on them. */
class RangeChecker {
  private readonly checkpointSeqs: ReadonlySet<string>;
  private expectedSeq = 0;
  private expectedPrev = "";
  private readonly result: RangeReport = { count: 0, first: null, last: null, latestAt: "", notable: [], failure: null };

  constructor(private readonly task: Pick<RangeTask, "metadataOf" | "checkpointSeqs">) {
    this.checkpointSeqs = new Set(task.checkpointSeqs);
  }

  visit(row: WalkedEvent): boolean {
    const result = this.result;
    if (result.first === null) {
      result.first = { seq: row.seq, prevHash: row.prevHash, at: row.at };
      // Sequence numbers are counted as numbers (exact far beyond any chain's length) and compared as text: no BigInt per event.
      this.expectedSeq = Number(row.seq);
      this.expectedPrev = row.prevHash;
    }
    const seq = row.seq;
    if (seq !== String(this.expectedSeq)) return this.fail(String(this.expectedSeq), `event ${this.expectedSeq} is missing`);
    if (row.prevHash !== this.expectedPrev) return this.fail(seq, `event ${seq} does not link to the event before it`);
    if (!row.holds) return this.fail(seq, `event ${seq} was changed after it was written`);
    if (row.at > result.latestAt) result.latestAt = row.at;
    if (row.action === this.task.metadataOf || this.checkpointSeqs.has(seq)) {
      result.notable.push({ seq, hash: row.hash, action: row.action, outcome: row.outcome, metadata: row.metadata, index: result.count, latestAt: result.latestAt });
    }
    this.expectedPrev = row.hash;
    this.expectedSeq++;
    result.last = { seq, hash: row.hash };
    result.count++;
    return true;
  }

  report(): RangeReport {
    return this.result;
  }

  private fail(seq: string, problem: string): false {
    this.result.failure = { seq, problem };
    return false;
  }
}

const NEWLINE = 10;
const field = (name: keyof StoredEventText) => COPY_ROW_FIELDS.indexOf(name);
const [SEQ, AT, ACTION, OUTCOME, METADATA, PREV_HASH, HASH] = (["seq", "at", "action", "outcome", "metadata", "prevHash", "hash"] as const).map(field) as [number, number, number, number, number, number, number];

/**
 * Walks and checks the events of one range on `client` (in whatever transaction it is in). Read as
 * one COPY (no per-batch statements, no per-field strings) and hashed from its bytes
 * (copy-rows.ts); a row the fast path does not take, or whose hash it finds changed, is decoded and
 * judged by storedHashHolds. Returns whether the walk stopped part way (the COPY is then still
 * running, and the connection should be closed rather than reused).
 */
export async function checkRange(client: ClientBase, task: RangeTask): Promise<{ report: RangeReport; stoppedEarly: boolean }> {
  const checker = new RangeChecker(task);
  const canonicalJsonFrom = BigInt(task.canonicalJsonFrom);
  const columns = COPY_ROW_FIELDS.map((name) => COPY_FIELD_SQL[name]).join(", ");
  // COPY takes no parameters: the bounds are bigints, written out as their digits. The first range
  // has no lower bound: a row forged with a sequence number below the chain's must be seen.
  const from = task.after === null ? "" : `seq > ${BigInt(task.after).toString()} AND `;
  const sql = `COPY (SELECT ${columns} FROM audit_events WHERE ${from}seq <= ${BigInt(task.upTo).toString()} ORDER BY audit_events.seq) TO STDOUT`;
  const hasher = new CopyRowHasher();
  let carry: Buffer | null = null;
  for await (const piece of client.query(copyTo(sql))) {
    // A row can be split between two pieces: its start waits in `carry`.
    const chunk: Buffer = carry ? Buffer.concat([carry, piece as Buffer]) : (piece as Buffer);
    carry = null;
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      if (!checker.visit(walkedEvent(hasher, chunk, start, end, canonicalJsonFrom, task.metadataOf))) return { report: checker.report(), stoppedEarly: true };
      start = end + 1;
    }
    if (start < chunk.length) carry = chunk.subarray(start);
  }
  return { report: checker.report(), stoppedEarly: false };
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
