import "server-only";
import { db, inPgTransaction, Prisma } from "../db/client";

// The free-text index of the trail (audit_event_text), kept beside the chain: maintaining a GIN
// index row by row inside the chain lock was a third of every write (bench/README.md), while
// filling it in bulk after the events commit costs half as much and holds no lock writers wait on.
// It is filled in seq order with no gaps, a moment after each commit (scheduleTextIndexing), and a
// free-text search first indexes whatever is still pending (indexCommittedEvents), so it never
// misses an event.

/** A free-text search, with the exact filters that go into the index too (see indexPendingEvents). */
export type TextQuery = { q: string; type?: string; outcome?: string };

/**
 * The sequence numbers of events whose words match `text.q` (all of its words, as typed) and whose
 * type and outcome are those asked for, as a subquery for `seq IN (…)`; run indexCommittedEvents
 * first. `within` (SQL on a bare `seq`) narrows it to the range a query reads: PostgreSQL then walks
 * that range newest first and stops at a full page for a common word, or takes a rare word's few
 * matches from the GIN index.
 */
export function matchingText(text: TextQuery, within: Prisma.Sql = Prisma.empty): Prisma.Sql {
  const exact = [text.type && `~type:${text.type}`, text.outcome && `~outcome:${text.outcome}`].filter((lexeme) => !!lexeme);
  const query = exact.reduce((q, lexeme) => Prisma.sql`${q} && quote_literal(${lexeme})::tsquery`, Prisma.sql`plainto_tsquery('simple', ${text.q})`);
  return Prisma.sql`SELECT seq FROM audit_event_text WHERE words @@ (${query}) ${within}`;
}

/** Events indexed per statement: a few hundred milliseconds of PostgreSQL's time at most. */
const INDEX_BATCH = 5_000;
const INDEXER_LOCK = "hashtext('gatehouse.audit_event_text')";

/** Waits for the indexer's turn in this transaction: a purge takes it, so no indexer adds entries for events it is removing. */
export async function takeIndexerTurn(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${INDEXER_LOCK})`);
}

/**
 * Indexes up to `limit` committed events beyond the newest indexed one, oldest first, and returns
 * how many. One indexer at a time across every instance: when another holds the turn, this waits
 * for it (`wait`) or returns null at once.
 */
export async function indexPendingEvents({ wait = false, limit = INDEX_BATCH } = {}): Promise<number | null> {
  return inPgTransaction(async (client) => {
    await client.query("BEGIN");
    if (wait) {
      await client.query(`SELECT pg_advisory_xact_lock(${INDEXER_LOCK})`);
    } else if (!(await client.query<{ turn: boolean }>(`SELECT pg_try_advisory_xact_lock(${INDEXER_LOCK}) AS turn`)).rows[0]?.turn) {
      return null;
    }
    // Up to the chain head: it moves in the transaction that inserts up to it, so every event
    // up to it is committed and none below it can still appear (no gap behind the index).
    // The words carry no positions (strip): searches match words, not phrases. The type and
    // outcome go in as reserved words ("~outcome:blocked": the parser never makes one with a
    // colon), so free text with either is one look-up in the GIN index, not a join with the
    // events' own (outcome, seq) index, which two tables do not allow.
    const insert = Prisma.sql`INSERT INTO audit_event_text (seq, words)
      SELECT e.seq, strip(to_tsvector('simple', concat_ws(' ', e.action, e.actor_label, e.actor_id, e.resource_type, e.resource_id, e.location))
        || json_to_tsvector('simple', e.metadata, '["string", "numeric"]') || array_to_tsvector(ARRAY['~type:' || e.type, '~outcome:' || e.outcome]))
      FROM audit_events e
      WHERE e.seq > (SELECT coalesce(max(seq), 0) FROM audit_event_text)
        AND e.seq <= (SELECT seq FROM audit_chain_head WHERE id = 1)
      ORDER BY e.seq LIMIT ${limit}`;
    return (await client.query(insert.text, insert.values)).rowCount ?? 0;
  });
}

/** Indexes every event committed so far (usually none or a few hundred: the indexer runs a moment after each commit). */
export async function indexCommittedEvents(): Promise<void> {
  while ((await indexPendingEvents({ wait: true })) === INDEX_BATCH);
}

// Indexing runs a moment after writes, so that a burst of commits is indexed in a few large
// statements rather than one per commit; a search meanwhile indexes what is pending itself.
const AFTER_WRITES_MS = 200;
const WHEN_BUSY_MS = 1_000;
const INDEXER = Symbol.for("gatehouse.audit.textIndexer");
type IndexerState = { timer: NodeJS.Timeout | null; running: boolean; again: boolean };
const shared = globalThis as unknown as Record<symbol, IndexerState | undefined>;
const state = (shared[INDEXER] ??= { timer: null, running: false, again: false });

/** Asks for the events committed so far to be indexed soon (called after each commit of events). */
export function scheduleTextIndexing(delayMs = AFTER_WRITES_MS): void {
  if (state.running) {
    state.again = true;
    return;
  }
  if (state.timer) return;
  state.timer = setTimeout(() => void runIndexer(), delayMs);
  state.timer.unref();
}

async function runIndexer() {
  state.timer = null;
  state.running = true;
  let retryIn: number | null = null;
  try {
    for (;;) {
      const indexed = await indexPendingEvents();
      // Another instance is indexing: it may have started before this one's newest events, so look again later.
      if (indexed === null) retryIn = WHEN_BUSY_MS;
      if (indexed !== INDEX_BATCH) break;
    }
  } catch (error) {
    // Searches stay complete meanwhile (they index what is pending first): try again later.
    console.error("Audit text indexing failed:", error instanceof Error ? error.message : error);
    retryIn = WHEN_BUSY_MS;
  } finally {
    state.running = false;
  }
  if (retryIn !== null || state.again) {
    state.again = false;
    scheduleTextIndexing(retryIn ?? AFTER_WRITES_MS);
  }
}

/**
 * Why the free-text index cannot be trusted, if it cannot: it must hold every event from the
 * first remaining one up to the newest it has reached, with no gap (the indexer only ever adds
 * the events after its newest, so a removed row would never come back, and its event would be
 * missing from every free-text search), and nothing beyond the chain head (which would stop the
 * indexer for good). Read in one snapshot with the events, so a purge or the indexer at work meanwhile is no gap.
 */
export async function textIndexProblem(): Promise<{ seq: string; problem: string } | null> {
  const [span] = await db().$queryRaw<{ rows: bigint; low: bigint | null; high: bigint | null; first: bigint | null; head: bigint }[]>`
    SELECT t.rows, t.low, t.high, (SELECT min(seq) FROM audit_events) AS first, (SELECT seq FROM audit_chain_head WHERE id = 1) AS head
    FROM (SELECT count(*) AS rows, min(seq) AS low, max(seq) AS high FROM audit_event_text) t`;
  const { rows, low, high, first, head } = span!;
  if (low === null || high === null) return null;
  if (high > head) return { seq: high.toString(), problem: `the free-text index holds an entry for event ${high}, beyond the chain head (${head}): it was inserted outside the indexer, and stops it` };
  if (first === null || low !== first) {
    const seq = first !== null && first < low ? first : low;
    return { seq: seq.toString(), problem: `the free-text index starts at event ${low}, not at the first event (${first ?? "none"}): entries were removed, or added for events that are not there` };
  }
  if (rows === high - low + BigInt(1)) return null;
  const [gap] = await db().$queryRaw<{ seq: bigint }[]>`
    SELECT min(t.seq) + 1 AS seq FROM audit_event_text t
    WHERE t.seq < ${high} AND NOT EXISTS (SELECT 1 FROM audit_event_text u WHERE u.seq = t.seq + 1)`;
  return { seq: gap!.seq.toString(), problem: `the free-text index has no entry for event ${gap!.seq}: entries were removed, so free-text search and exports filtered by words miss that event` };
}
