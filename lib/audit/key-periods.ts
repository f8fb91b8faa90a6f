// When each audit signing key was in use, as the chain itself records it. Pure (not "server-only"):
// the chain verifier uses it, and tests check the rule on its own.
//
// The rule: keys take over in the order the configuration lists them (GATEHOUSE_SIGNING_KEY, then
// GATEHOUSE_SIGNING_PREVIOUS_KEYS newest first), and a key is retired by the first checkpoint a
// newer key signs (the `key_rotation` checkpoint written at the first start with the new key), or
// by the rotation event that start records, whichever comes first.
// Instances are restarted one by one, so those still on the retired key keep signing periodic
// checkpoints for a while: a retired key vouches for checkpoints up to its retirement's time plus
// an overlap (GATEHOUSE_AUDIT_KEY_OVERLAP_MINUTES), and no later, so someone holding an old leaked
// key cannot sign a checkpoint dated long after it was replaced. Once a retired key has signed,
// the current key must have signed too: otherwise its checkpoints could have been removed to hide
// the retirement.

type SignedCheckpoint = { seq: bigint; keyId: string };

/** The first checkpoint a key newer than every earlier signer signed: the retirement of those before it. */
type Takeover = { keyId: string; rank: number; seq: bigint; at: number };

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Judges checkpoints in sequence order against the key order (ids, current first) and the overlap:
 * each call answers why this checkpoint's key was no longer in use for it, if it was not. Keys
 * outside the order are for the caller to refuse (they are not trusted at all).
 *
 * A checkpoint's time is the chain's time at its event: the latest `at` up to and including it
 * (the same as the event's own unless the database clock stepped back). An event's own time can be
 * set back by whoever rewrites the unsigned events after the newest checkpoint; the times of events
 * a newer key's checkpoint already vouches for cannot be.
 */
export function signingPeriods(keyOrder: readonly string[], overlapMs: number) {
  const takeovers: Takeover[] = [];
  /** The checkpoint, if any, that retired this key: the first one a newer key signed. */
  const retirementOf = (rank: number) => takeovers.find((takeover) => takeover.rank < rank);
  const noteTakeover = (checkpoint: SignedCheckpoint, rank: number, at: number) => {
    if (takeovers.every((takeover) => rank < takeover.rank)) takeovers.push({ keyId: checkpoint.keyId, rank, seq: checkpoint.seq, at });
  };

  return {
    /** A checkpoint whose event remains, with the chain's time there (ms since the epoch). */
    dated(checkpoint: SignedCheckpoint, at: number): string | null {
      const rank = keyOrder.indexOf(checkpoint.keyId);
      if (rank < 0) return null;
      const retirement = retirementOf(rank);
      noteTakeover(checkpoint, rank, at);
      if (!retirement || at <= retirement.at + overlapMs) return null;
      return `checkpoint at ${checkpoint.seq} is signed by key ${checkpoint.keyId}, which key ${retirement.keyId} replaced at ${retirement.seq} (${iso(retirement.at)}): the overlap for instances still on the retired key ended at ${iso(retirement.at + overlapMs)}, and the chain's time at this checkpoint is ${iso(at)}`;
    },

    /**
     * The chain's own record of a rotation (the `audit.signing_key.rotate` event the first start
     * with the new key writes): the keys before `keyId` are retired there at the latest. It counts
     * even if the checkpoints the new key signed around it were swapped for the retired key's by
     * someone holding both the database and the leaked key: the event itself is hash-chained under
     * the new key's later checkpoints, so the retirement cannot be moved later than it.
     */
    rotated(rotation: SignedCheckpoint, at: number): void {
      const rank = keyOrder.indexOf(rotation.keyId);
      if (rank >= 0) noteTakeover(rotation, rank, at);
    },

    /**
     * A checkpoint whose event was purged, so its time is gone; all that is known is that it came
     * before the first remaining event (`firstRemainingAt`), which stands in for its time if it
     * retired a key. Such a checkpoint vouches for nothing that remains, except the purge anchor
     * (`anchor`) the remaining chain links to. A retired key's anchor must come before its
     * retirement: during the overlap (at most a day) a purge removes only events older than the
     * retention period (at least a day), which are older than the retirement too.
     */
    purged(checkpoint: SignedCheckpoint & { reason: string }, anchor: boolean, firstRemainingAt: number): string | null {
      const rank = keyOrder.indexOf(checkpoint.keyId);
      if (rank < 0) return null;
      const retirement = retirementOf(rank);
      // A purge's checkpoint is signed when the purge runs, at the place of an event long older:
      // it tells nothing of when its key took over (nor does one whose reason is not signed, which
      // may be a purge's). Taken for a takeover there, it would retire the key before it months early.
      if (checkpoint.reason !== "purge" && checkpoint.reason !== "unsigned") noteTakeover(checkpoint, rank, firstRemainingAt);
      if (!retirement || !anchor) return null;
      return `the purge checkpoint at ${checkpoint.seq} that the remaining events link to is signed by key ${checkpoint.keyId}, which key ${retirement.keyId} replaced at ${retirement.seq}: a purge while the retired key was still in use removes only events from before its replacement`;
    },
  };
}

/** Why the checkpoints cannot stand: a retired key signed and the current key has signed none (named at the newest). */
export function currentKeyProblem(checkpoints: readonly SignedCheckpoint[], keyOrder: readonly string[]): { seq: bigint; problem: string } | null {
  const newest = checkpoints.at(-1);
  const retiredSigned = checkpoints.some(({ keyId }) => keyOrder.indexOf(keyId) > 0);
  if (!newest || !retiredSigned || checkpoints.some(({ keyId }) => keyId === keyOrder[0])) return null;
  return {
    seq: newest.seq,
    problem: `the newest checkpoint, at ${newest.seq}, is signed by retired key ${newest.keyId} and the current key ${keyOrder[0]} has signed none (a start with the new key records the rotation), so nothing shows when the retired key was replaced`,
  };
}
