// Chained rows read as PostgreSQL's COPY text (one line per row, fields split by tabs, `\N` for
// null, backslash escapes) and hashed from their bytes: the chain walk recomputes a million hashes
// without making a JavaScript string of every field. Pure (no database): unit tests feed it lines.
import { hash } from "node:crypto";
import { CANONICAL_EVENT_KEYS, CANONICAL_JSON_KEYS } from "./hash";
import type { StoredEventText } from "./chain-range";

/** The fields of a COPY row, in this order: the chained fields in canonical order, then the stored hash. */
export const COPY_ROW_FIELDS: readonly (keyof StoredEventText)[] = [...CANONICAL_EVENT_KEYS, "hash"];

const TAB = 9;
const BACKSLASH = 92;
const QUOTE = 34;
const NULL_TEXT = Buffer.from("null");
const PREFIXES = CANONICAL_EVENT_KEYS.map((key, i) => Buffer.from(`${i === 0 ? "{" : ","}${JSON.stringify(key)}:`));
const IS_JSON = CANONICAL_EVENT_KEYS.map((key) => CANONICAL_JSON_KEYS.includes(key));
const PREFIX_BYTES = PREFIXES.reduce((sum, prefix) => sum + prefix.length, 0);

/**
 * Hashes COPY rows as eventTextHash hashes events: the canonical JSON is laid out byte for byte
 * (prefixes, quoted strings, JSON text as is, `null`) in one reused buffer. A row with any
 * backslash (an escape, which the field's text would need decoded) or with a character JSON would
 * escape in a string (a quote or a control character) is left to decodeCopyRow and the reference
 * serialiser: this fast path only takes rows whose canonical bytes are their own bytes.
 */
export class CopyRowHasher {
  private out = Buffer.allocUnsafe(64 * 1024);
  /** Where each field of the last row hashed starts and ends (COPY_ROW_FIELDS order). */
  readonly starts = new Int32Array(COPY_ROW_FIELDS.length);
  readonly ends = new Int32Array(COPY_ROW_FIELDS.length);

  /** The SHA-256 (hex) of the canonical JSON of the row in buf[start, end), or null if the fast path does not apply. */
  hash(buf: Buffer, start: number, end: number): string | null {
    // Each field grows by at most its prefix, two quotes, or `\N` becoming `null`.
    const bound = end - start + PREFIX_BYTES + 4 * PREFIXES.length + 1;
    if (bound > this.out.length) this.out = Buffer.allocUnsafe(2 * bound);
    const out = this.out;
    const { starts, ends } = this;
    let o = 0;
    let i = start;
    for (let k = 0; k < PREFIXES.length; k++) {
      const prefix = PREFIXES[k]!;
      for (let j = 0; j < prefix.length; j++) out[o++] = prefix[j]!;
      starts[k] = i;
      if (buf[i] === BACKSLASH) {
        // `\N` alone is null; any other backslash is an escape.
        if (buf[i + 1] !== 78 || (i + 2 !== end && buf[i + 2] !== TAB)) return null;
        for (let j = 0; j < NULL_TEXT.length; j++) out[o++] = NULL_TEXT[j]!;
        ends[k] = i + 2;
        i += 3;
        continue;
      }
      if (IS_JSON[k]) {
        for (; i < end; i++) {
          const c = buf[i]!;
          if (c <= TAB || c === BACKSLASH) {
            if (c === TAB) break;
            return null;
          }
          out[o++] = c;
        }
      } else {
        out[o++] = QUOTE;
        for (; i < end; i++) {
          const c = buf[i]!;
          // One comparison for most bytes: only those up to '"' and the backslash are looked at.
          if (c <= QUOTE || c === BACKSLASH) {
            if (c === TAB) break;
            if (c < 32 || c === QUOTE || c === BACKSLASH) return null;
          }
          out[o++] = c;
        }
        out[o++] = QUOTE;
      }
      if (i >= end) return null; // fewer fields than expected
      ends[k] = i;
      i++;
    }
    out[o++] = 125; // }
    const last = COPY_ROW_FIELDS.length - 1;
    starts[last] = i;
    ends[last] = end;
    for (let j = i; j < end; j++) if (buf[j] === TAB) return null; // more fields than expected
    return hash("sha256", out.subarray(0, o), "hex");
  }
}

const ESCAPES: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/** A COPY text field as its value: `\N` is null, and escapes are decoded (COPY TO writes no octal or hex ones). */
export function decodeCopyField(text: string): string | null {
  if (text === "\\N") return null;
  if (!text.includes("\\")) return text;
  return text.replace(/\\(.)/gs, (_, escaped: string) => ESCAPES[escaped] ?? escaped);
}

/** The stored event a COPY row (without its newline) holds; throws if it has the wrong number of fields. */
export function decodeCopyRow(line: string): StoredEventText {
  const fields = line.split("\t");
  if (fields.length !== COPY_ROW_FIELDS.length) throw new Error(`a COPY row has ${fields.length} fields, not ${COPY_ROW_FIELDS.length}`);
  const row: Record<string, string | null> = {};
  COPY_ROW_FIELDS.forEach((name, i) => (row[name] = decodeCopyField(fields[i]!)));
  return row as StoredEventText;
}
