import { describe, expect, it } from "vitest";
import { COPY_ROW_FIELDS, CopyRowHasher, decodeCopyRow } from "@/lib/audit/copy-rows";
import { canonicalJson, eventTextHash } from "@/lib/audit/hash";
import type { StoredEventText } from "@/lib/audit/chain-range";
import { randomEvent, seeded } from "../support/random-events";

// What PostgreSQL's COPY … TO STDOUT writes for a text value (CopyAttributeOutText): backslash,
// the tab delimiter and six control characters escaped, every other character as it is.
const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v" };
const copyField = (value: string | null) => (value === null ? "\\N" : value.replace(/[\\\t\n\r\b\f\v]/g, (c) => COPY_ESCAPES[c]!));
const copyLine = (row: StoredEventText) => Buffer.from(COPY_ROW_FIELDS.map((name) => copyField(row[name])).join("\t"));

// Strings the fast path takes as they are: no quote, backslash or control character.
const PLAIN = ["", "plain", "é ü ß 中文 😀", "\u2028\u2029", "</script>", "slash / and \u007f", "=SUM(1)", "{looks: like json}"];

/** Half the rows tricky (mostly left to the reference path), half with only plain strings (taken by the fast path). */
function storedRow(pick: (n: number) => number): StoredEventText {
  const tricky = randomEvent(pick);
  const plain = (value: string | null) => (value === null ? null : PLAIN[pick(PLAIN.length)]!);
  const event = pick(2) ? tricky : {
    ...tricky, actorId: plain(tricky.actorId), actorLabel: plain(tricky.actorLabel), resourceType: plain(tricky.resourceType), resourceId: plain(tricky.resourceId),
    ipCipher: plain(tricky.ipCipher), ipHash: plain(tricky.ipHash), userAgentCipher: plain(tricky.userAgentCipher), deviceId: plain(tricky.deviceId), location: plain(tricky.location),
    metadata: { [PLAIN[pick(PLAIN.length)]!]: [PLAIN[pick(PLAIN.length)], 1.5, null, { nested: true }] }, policyDecisions: pick(2) ? [{ policy: PLAIN[pick(PLAIN.length)] }] : null,
  };
  const chained = { ...event, metadata: canonicalJson(event.metadata), policyDecisions: event.policyDecisions === null ? null : canonicalJson(event.policyDecisions) };
  return { ...chained, hash: eventTextHash(chained) };
}

describe("COPY rows hashed from their bytes", () => {
  it("hash exactly as the reference serialiser does, or leave the row to it; decoding gives the row back", () => {
    const pick = seeded(2026);
    const hasher = new CopyRowHasher();
    let fast = 0;
    for (let i = 0; i < 2_000; i++) {
      const line = copyLine(storedRow(pick));
      // The row as PostgreSQL holds it (UTF-8: a lone surrogate is already replaced).
      const decoded = decodeCopyRow(line.toString("utf8"));
      expect(copyLine(decoded).equals(line)).toBe(true);
      const { hash: _stored, ...chained } = decoded;
      const recomputed = hasher.hash(line, 0, line.length);
      if (recomputed !== null) fast++;
      expect(recomputed ?? eventTextHash(chained)).toBe(eventTextHash(chained));
    }
    // Tricky strings send some rows to the reference path; the rest take the fast one.
    expect(fast).toBeGreaterThan(800);
    expect(fast).toBeLessThan(1_200);
  });

  it("take an ordinary row on the fast path, field positions and all, in the middle of a buffer", () => {
    const row: StoredEventText = {
      seq: "42", id: "7d0b4a46-3f51-4c59-9b7a-2b3c4d5e6f70", at: "2026-12-04T12:00:00.000Z", type: "authentication", action: "auth.sign_in", outcome: "success",
      actorType: "user", actorId: "u1", actorLabel: "ada@example.test", resourceType: null, resourceId: null, ipCipher: "k1.aaa.bbb.ccc", ipHash: "ab".repeat(32),
      userAgentCipher: null, deviceId: null, location: "Zürich, CH", riskScore: "0.120", policyDecisions: null, metadata: '{"method":"password"}', prevHash: "0".repeat(64), hash: "",
    };
    const { hash: _, ...chained } = row;
    const line = copyLine({ ...row, hash: eventTextHash(chained) });
    const buffer = Buffer.concat([Buffer.from("previous row\n"), line, Buffer.from("\nnext row")]);
    const hasher = new CopyRowHasher();
    expect(hasher.hash(buffer, 13, 13 + line.length)).toBe(eventTextHash(chained));
    const at = COPY_ROW_FIELDS.indexOf("location");
    expect(buffer.toString("utf8", hasher.starts[at], hasher.ends[at])).toBe("Zürich, CH");
  });

  it("refuse rows with too few or too many fields instead of reading past them", () => {
    const hasher = new CopyRowHasher();
    const fields = COPY_ROW_FIELDS.map(() => "x");
    for (const line of [fields.slice(1).join("\t"), [...fields, "extra"].join("\t"), ""]) {
      expect(hasher.hash(Buffer.from(line), 0, Buffer.byteLength(line))).toBeNull();
      expect(() => decodeCopyRow(line)).toThrow(/fields/);
    }
  });
});
