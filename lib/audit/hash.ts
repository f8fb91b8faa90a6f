// The chain's hash function. Pure (no database, not "server-only"): scripts and tests use it as is.
import { hash } from "node:crypto";
import canonicalize from "canonicalize";
import type { ChainedEvent } from "./events";

export const GENESIS_HASH = "0".repeat(64);

/** RFC 8785 canonical JSON of any JSON value. */
export const canonicalJson = (value: unknown): string => canonicalize(value ?? null)!;

/**
 * An event with its two JSON-valued fields as canonical JSON text, the form in which the
 * database keeps them (json columns, written from canonicalJson): the chain can be hashed from
 * stored rows without parsing and re-serialising their metadata.
 */
export type ChainedEventText = Omit<ChainedEvent, "metadata" | "policyDecisions"> & { metadata: string; policyDecisions: string | null };

const CHAINED_KEYS = [
  "seq", "id", "at", "type", "action", "outcome", "actorType", "actorId", "actorLabel", "resourceType", "resourceId",
  "ipCipher", "ipHash", "userAgentCipher", "deviceId", "location", "riskScore", "policyDecisions", "metadata", "prevHash",
] as const satisfies readonly (keyof ChainedEvent)[];
// Every field of ChainedEvent is hashed: a field added to the type and not here fails to compile.
type Unhashed = Exclude<keyof ChainedEvent, (typeof CHAINED_KEYS)[number]>;
const everyFieldHashed: [Unhashed] extends [never] ? true : false = true;
void everyFieldHashed;

// What JSON.stringify would escape (any surrogate sends the string its way, paired or lone):
// most values have none of it and are quoted as they are, a third faster on a chain walk.
const NEEDS_ESCAPING = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * Serialises flat objects whose members are strings or null, except `jsonKeys`, which hold JSON
 * text that is embedded as it is. Members come out in the order of `keys`; strings as
 * JSON.stringify writes them, which is also RFC 8785's form.
 */
export function flatObjectSerializer<K extends string>(keys: readonly K[], jsonKeys: readonly K[]) {
  const prefixes = keys.map((key, i) => `${i === 0 ? "{" : ","}${JSON.stringify(key)}:`);
  const isJson = keys.map((key) => jsonKeys.includes(key));
  return (record: Readonly<Record<K, string | null>>): string => {
    let text = "";
    for (let i = 0; i < keys.length; i++) {
      const value: unknown = record[keys[i]!];
      if (value !== null && typeof value !== "string") throw new TypeError(`${keys[i]} must be a string or null`);
      text += prefixes[i]! + (value === null ? "null" : isJson[i] ? value : NEEDS_ESCAPING.test(value) ? JSON.stringify(value) : `"${value}"`);
    }
    return `${text}}`;
  };
}

// RFC 8785 orders members by UTF-16 code units, which is how Array.prototype.sort compares strings.
/** The chained fields in the order their canonical JSON lists them. */
export const CANONICAL_EVENT_KEYS: readonly (keyof ChainedEventText)[] = [...CHAINED_KEYS].sort();
/** The chained fields that hold JSON text, embedded as it is; every other one is a string or null. */
export const CANONICAL_JSON_KEYS: readonly (keyof ChainedEventText)[] = ["metadata", "policyDecisions"];
const canonicalEventText = flatObjectSerializer(CANONICAL_EVENT_KEYS, CANONICAL_JSON_KEYS);

/**
 * SHA-256 over the RFC 8785 canonical JSON of the event, which includes the previous event's
 * hash: changing, removing or reordering any event changes every hash after it. Encrypted fields
 * are hashed as ciphertext, so the chain verifies without decryption keys. Given the nested JSON
 * as canonical text, the text hashed is exactly canonicalize(event) (tests/unit/audit-hash.test.ts).
 */
export function eventTextHash(event: ChainedEventText): string {
  return hash("sha256", canonicalEventText(event), "hex");
}

/** eventTextHash of an event whose JSON fields are values (as written, or as parsed from a row). */
export function eventHash(event: ChainedEvent): string {
  return eventTextHash({ ...event, metadata: canonicalJson(event.metadata), policyDecisions: canonicalJson(event.policyDecisions) });
}
