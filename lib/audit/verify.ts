import "server-only";
import { trustedSigningKey, verifyDetached } from "../crypto";
import { db } from "../db/client";
import { GENESIS_HASH } from "./hash";
import { currentKeyProblem, signingPeriods } from "./key-periods";
import { KEY_ROTATION_ACTION, rotatedKeyId, signingKeyOrder, signingKeyOverlapMs } from "./signing-key";
import type { NotableEvent, RangeReport } from "./chain-range";
import { inTurn } from "./chain-turns";
import { walkRanges } from "./chain-walk";
import { textIndexProblem } from "./text-index";
import { CHECKPOINT_EVERY, MAX_BATCH_EVENTS, checkpointStatement, legacyCheckpointStatement, readHeadAndCheckpoints } from "./store";

export type ChainVerification = {
  ok: boolean;
  eventsChecked: number;
  checkpointsChecked: number;
  firstSeq: string | null;
  lastSeq: string | null;
  /** The first sequence number at which the chain does not hold, and why. */
  firstBadSeq: string | null;
  problem: string | null;
  durationMs: number;
};

export type Checkpoint = { seq: bigint; hash: string; reason: string; keyId: string; signature: string };

// On globalThis, like the turns (chain-turns.ts): one walk per process, whichever copy of this module asks.
const WALK_UNDER_WAY = Symbol.for("gatehouse.audit.walkUnderWay");
const shared = globalThis as unknown as Record<symbol, Promise<ChainVerification> | undefined>;

/**
 * Walks the whole chain: every event's hash recomputed, every link to the previous hash, no
 * gaps in the sequence, every signed checkpoint matched, signed by a key in its period of use
 * (key-periods.ts, judged at the chain's time there) and none missing or beyond the head, and the
 * head row at the last event. The first remaining event links either to the genesis hash or to
 * the signed checkpoint the retention purge wrote before removing older events. The free-text
 * index beside the chain must have no gap (text-index.ts, textIndexProblem). A long chain is
 * walked in ranges on worker threads at once (walkRanges); the verdict is the same either way.
 */
export function verifyChain(options: { ranges?: number } = {}): Promise<ChainVerification> {
  // Asked again while a walk is under way (the console's button pressed by several people, the
  // schedule), the caller gets that walk's verdict instead of queueing another whole walk.
  const underWay = shared[WALK_UNDER_WAY];
  if (options.ranges === undefined && underWay) return underWay;
  // A purge while the chain is read would make the events it removes look missing: in this
  // process they wait for each other (on the embedded database, the only process).
  const walk = inTurn(() => walkAndJudge(options));
  if (options.ranges !== undefined) return walk;
  shared[WALK_UNDER_WAY] = walk;
  return walk.finally(() => (shared[WALK_UNDER_WAY] = undefined));
}


async function walkAndJudge({ ranges }: { ranges?: number }, again = false): Promise<ChainVerification> {
  const started = performance.now();
  // The chain as it stands now: events written while it is walked are left for the next check
  // (otherwise they would look like events missing at the head).
  const { head, checkpoints, firstBeyondHead } = await readHeadAndCheckpoints();
  const result = (fields: Partial<ChainVerification>): ChainVerification => ({
    ok: false, eventsChecked: 0, checkpointsChecked: 0, firstSeq: null, lastSeq: null, firstBadSeq: null, problem: null,
    ...fields, durationMs: Math.round(performance.now() - started),
  });
  if (firstBeyondHead !== null) return result({ firstBadSeq: firstBeyondHead.toString(), problem: `event ${firstBeyondHead} lies beyond the chain head (${head.seq}): it was inserted outside the chain` });

  const keyOrder = signingKeyOrder();
  const periods = signingPeriods(keyOrder, signingKeyOverlapMs());
  // Keyed by the sequence number as text, as the walk reads it.
  const bySeq = new Map<string, Checkpoint>();
  for (const cp of checkpoints) {
    const judged = vouchedCheckpoint(cp, head.seq);
    if ("problem" in judged) return result({ firstBadSeq: cp.seq.toString(), problem: judged.problem });
    bySeq.set(cp.seq.toString(), judged.checkpoint);
  }
  const vouched = [...bySeq.values()];
  const unclosed = currentKeyProblem(checkpoints, keyOrder);
  if (unclosed) return result({ firstBadSeq: unclosed.seq.toString(), problem: unclosed.problem });

  // The free-text index's check (a scan of its key) runs in PostgreSQL while the walk hashes here.
  const [reports, index] = await Promise.all([
    walkRanges(head.seq, { canonicalJsonFrom: head.canonicalJsonFrom.toString(), metadataOf: KEY_ROTATION_ACTION, checkpointSeqs: [...bySeq.keys()] }, ranges),
    textIndexProblem(),
  ]);

  // The ranges joined in order, judged as one walk event by event would judge them: each range
  // has checked its own events; here the link into each range's first event, then the events
  // only the whole chain can judge (checkpoints, key rotations), then the range's own break.
  let expectedSeq: number | null = null;
  let expectedPrev = GENESIS_HASH;
  let first: RangeReport["first"] = null;
  let last: RangeReport["last"] = null;
  let count = 0;
  let checkpointsChecked = 0;
  // The latest `at` so far (key-periods.ts dates checkpoints by it), kept as text: the fixed-width
  // ISO UTC form sorts as time does, so the walk parses a time only at checkpoints.
  let latestAt = "";
  const fail = (fields: Partial<ChainVerification>) => result({ eventsChecked: count, ...fields });
  for (const range of reports) {
    if (range.first) {
      if (expectedSeq === null) {
        first = range.first;
        expectedSeq = Number(first.seq);
        if (first.seq !== "1") {
          const anchor = bySeq.get(String(expectedSeq - 1));
          if (anchor?.reason !== "purge") {
            // Another instance's purge may have committed between the read of the checkpoints and
            // the walk's snapshot (within one process they take turns): its anchor is there now.
            if (!again && (await purgeAnchoredAt(BigInt(expectedSeq - 1)))) return walkAndJudge({ ranges }, true);
            return fail({ firstBadSeq: first.seq, problem: `events before ${first.seq} are missing and no purge's checkpoint anchors the chain there` });
          }
          expectedPrev = anchor.hash;
        }
        const purged = purgedPeriodProblem(periods, vouched, BigInt(first.seq), Date.parse(first.at));
        if (purged) return fail({ firstBadSeq: purged.seq.toString(), problem: purged.problem });
      }
      if (range.first.seq !== String(expectedSeq)) return fail({ firstBadSeq: String(expectedSeq), problem: `event ${expectedSeq} is missing` });
      if (range.first.prevHash !== expectedPrev) return fail({ firstBadSeq: range.first.seq, problem: `event ${range.first.seq} does not link to the event before it` });
    }
    for (const event of range.notable) {
      const at = event.latestAt > latestAt ? event.latestAt : latestAt;
      const rotatedTo = rotationTarget(event);
      if (rotatedTo) periods.rotated({ seq: BigInt(event.seq), keyId: rotatedTo }, Date.parse(at));
      const checkpoint = bySeq.get(event.seq);
      if (checkpoint) {
        const checked = { eventsChecked: count + event.index };
        if (checkpoint.hash !== event.hash) return fail({ ...checked, firstBadSeq: event.seq, problem: `event ${event.seq} differs from its signed checkpoint` });
        const outOfPeriod = periods.dated(checkpoint, Date.parse(at));
        if (outOfPeriod) return fail({ ...checked, firstBadSeq: event.seq, problem: outOfPeriod });
        checkpointsChecked++;
      }
    }
    if (range.failure) return fail({ eventsChecked: count + range.count, firstBadSeq: range.failure.seq, problem: range.failure.problem });
    if (range.latestAt > latestAt) latestAt = range.latestAt;
    if (range.last) {
      last = range.last;
      expectedSeq = Number(last.seq) + 1;
      expectedPrev = last.hash;
    }
    count += range.count;
  }

  // No event left: only a purge that took them all (the head's too) may leave the chain so, and
  // its signed checkpoint is at the head, with the head's hash. Otherwise they were deleted.
  if (!first && head.seq > BigInt(0)) {
    const anchor = bySeq.get(head.seq.toString());
    if (anchor?.reason !== "purge" || anchor.hash !== head.hash) {
      // As above: a purge of every event by another instance may have landed between the reads.
      if (!again && (await purgeAnchoredAt(head.seq))) return walkAndJudge({ ranges }, true);
      return result({ firstBadSeq: head.seq.toString(), problem: `no event remains and no purge's checkpoint anchors the chain head (${head.seq}): the events were deleted` });
    }
    const allPurged = purgedPeriodProblem(periods, vouched, head.seq + BigInt(1), Number.NEGATIVE_INFINITY);
    if (allPurged) return result({ firstBadSeq: allPurged.seq.toString(), problem: allPurged.problem });
  }
  const missing = first ? missingCheckpoint(checkpoints, BigInt(first.seq) - BigInt(1), head.seq) : null;
  if (missing !== null) {
    return result({ eventsChecked: count, checkpointsChecked, firstBadSeq: missing.toString(), problem: `the signed checkpoint written with event ${missing} is missing: checkpoints were removed, so the events after the one before it are not vouched for` });
  }
  const lastSeq = last ? BigInt(last.seq) : (checkpoints.at(-1)?.seq ?? BigInt(0));
  if (head.seq !== lastSeq || (last && head.hash !== last.hash)) {
    const missingFrom = (lastSeq + BigInt(1)).toString();
    return result({ eventsChecked: count, checkpointsChecked, firstBadSeq: missingFrom, problem: `events from ${missingFrom} on are missing (the chain head is at ${head.seq})` });
  }
  if (index) return result({ eventsChecked: count, checkpointsChecked, firstBadSeq: index.seq, problem: index.problem });
  return result({ ok: true, eventsChecked: count, checkpointsChecked, firstSeq: first?.seq ?? null, lastSeq: last?.seq ?? null });
}

/** Whether a purge's checkpoint is at `seq` now (one that landed after the checkpoints were read). */
async function purgeAnchoredAt(seq: bigint): Promise<boolean> {
  return (await db().auditCheckpoint.count({ where: { seq, reason: "purge" } })) > 0;
}

/** The key a successful `audit.signing_key.rotate` event (signing-key.ts) rotated to; null for every other event. */
function rotationTarget(row: NotableEvent): string | null {
  if (row.action !== KEY_ROTATION_ACTION || row.outcome !== "success" || row.metadata === null) return null;
  try {
    return rotatedKeyId(JSON.parse(row.metadata));
  } catch {
    return null;
  }
}

/**
 * A checkpoint as its signature vouches for it, or why it cannot be trusted (an unknown key, a bad
 * signature, a place beyond the head). Its reason is kept only when signed: the statement's old
 * form (before 2026-12-04) signed none, so such a checkpoint vouches for its event but its stored
 * reason, which could have been changed, is not believed ("unsigned"): it never anchors a purge.
 */
export function vouchedCheckpoint(cp: Checkpoint, headSeq: bigint): { checkpoint: Checkpoint } | { problem: string } {
  const key = trustedSigningKey(cp.keyId);
  if (!key) return { problem: `checkpoint at ${cp.seq} is signed by key ${cp.keyId}, which is neither GATEHOUSE_SIGNING_KEY nor listed in GATEHOUSE_SIGNING_PREVIOUS_KEYS` };
  // A checkpoint is written with (or after) its event, so the head cannot be behind it.
  const beyondHead = { problem: `checkpoint at ${cp.seq} is beyond the chain head (${headSeq}): events were removed from the end` };
  if (verifyDetached(checkpointStatement(cp.seq, cp.hash, cp.reason), cp.signature, key.publicKey)) return cp.seq > headSeq ? beyondHead : { checkpoint: cp };
  if (!verifyDetached(legacyCheckpointStatement(cp.seq, cp.hash), cp.signature, key.publicKey)) return { problem: `checkpoint at ${cp.seq} has an invalid signature` };
  return cp.seq > headSeq ? beyondHead : { checkpoint: { ...cp, reason: "unsigned" } };
}

/**
 * Judges the signing periods of the checkpoints whose events were purged (those before
 * `firstRemainingSeq`, dated at `firstRemainingAt`): see key-periods.ts, purged.
 */
function purgedPeriodProblem(periods: ReturnType<typeof signingPeriods>, checkpoints: Checkpoint[], firstRemainingSeq: bigint, firstRemainingAt: number) {
  for (const cp of checkpoints) {
    if (cp.seq >= firstRemainingSeq) break;
    const problem = periods.purged(cp, cp.seq === firstRemainingSeq - BigInt(1), firstRemainingAt);
    if (problem) return { seq: cp.seq, problem };
  }
  return null;
}

/**
 * The first multiple of CHECKPOINT_EVERY after `start` (the genesis or a purge anchor) and up to
 * `head` with no checkpoint in the batch that reached it (see CHECKPOINT_EVERY). Removing
 * checkpoints is what rewriting events a signature vouched for takes, hashes recomputed and all.
 */
function missingCheckpoint(checkpoints: Checkpoint[], start: bigint, head: bigint): bigint | null {
  const every = BigInt(CHECKPOINT_EVERY);
  const batch = BigInt(MAX_BATCH_EVENTS);
  let next = 0;
  for (let multiple = (start / every + BigInt(1)) * every; multiple <= head; multiple += every) {
    while (next < checkpoints.length && checkpoints[next]!.seq < multiple) next++;
    const checkpoint = checkpoints[next];
    if (!checkpoint || checkpoint.seq >= multiple + batch) return multiple;
  }
  return null;
}
