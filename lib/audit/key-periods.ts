// When each audit signing key was in use, as the chain itself records it. Pure (not "server-only"):
// the chain verifier uses it, and tests check the rule on its own.
//
// The rule: keys take over in the order the configuration lists them (GATEHOUSE_SIGNING_KEY, then
// GATEHOUSE_SIGNING_PREVIOUS_KEYS newest first), and a key is retired by the first checkpoint a
// newer key signs (the `key_rotation` checkpoint written at the first start with the new key). A
// retired key vouches only for what comes before that sequence number, so someone holding an old
// leaked key cannot sign a checkpoint (a purge anchor, say) dated after it was replaced. For the
// same reason, once a retired key has signed, the current key must have signed too: otherwise its
// checkpoints could have been removed to hide the retirement.

type SignedCheckpoint = { seq: bigint; keyId: string };

/** The key in use from `seq` on, and its place in the configured order (0 is the current key). */
type InUse = { keyId: string; rank: number; seq: bigint };

/**
 * Checks checkpoints in sequence order against the key order (ids, current first): each call
 * answers why this checkpoint's key was no longer in use at its sequence number, if it was not.
 * Keys outside the order are for the caller to refuse (they are not trusted at all).
 */
export function signingPeriodCheck(keyOrder: readonly string[]) {
  let newest: InUse | null = null;
  return (checkpoint: SignedCheckpoint): string | null => {
    const rank = keyOrder.indexOf(checkpoint.keyId);
    if (rank < 0) return null;
    if (newest && rank > newest.rank) {
      return `checkpoint at ${checkpoint.seq} is signed by key ${checkpoint.keyId}, which key ${newest.keyId} replaced at ${newest.seq}: a retired key vouches only for checkpoints before its replacement's first one`;
    }
    if (!newest || rank < newest.rank) newest = { keyId: checkpoint.keyId, rank, seq: checkpoint.seq };
    return null;
  };
}

/** Why the newest checkpoint cannot close the chain, if it cannot: a retired key signed it and the current key has signed none. */
export function currentKeyProblem(checkpoints: readonly SignedCheckpoint[], keyOrder: readonly string[]): { seq: bigint; problem: string } | null {
  const newest = checkpoints.at(-1);
  if (!newest || newest.keyId === keyOrder[0] || !keyOrder.includes(newest.keyId)) return null;
  return {
    seq: newest.seq,
    problem: `the newest checkpoint, at ${newest.seq}, is signed by retired key ${newest.keyId} and the current key ${keyOrder[0]} has signed none (a start with the new key records the rotation), so nothing shows when the retired key was replaced`,
  };
}
