// The chain's hash function. Not "server-only": the offline verifiers use it too.
import { hash } from "node:crypto";
import canonicalize from "canonicalize";
import type { ChainedEvent } from "./events";

export const GENESIS_HASH = "0".repeat(64);

/**
 * SHA-256 over the RFC 8785 canonical JSON of the event, which includes the previous event's
 * hash: changing, removing or reordering any event changes every hash after it.
 * Encrypted fields are hashed as ciphertext, so the chain verifies without decryption keys.
 */
export function eventHash(event: ChainedEvent): string {
  return hash("sha256", canonicalize(event)!, "hex");
}
