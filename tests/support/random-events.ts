// Events full of the strings and keys that JSON serialisers (and COPY's text format) disagree
// on, drawn from a seeded PRNG so that every run sees the same ones.
import type { ChainedEvent } from "@/lib/audit/events";

export const TRICKY = ["", "plain", "lone \ud800 surrogate", "__proto__", "quote \" backslash \\ slash /", "tab\tnewline\ncr\r", "\u0001\u001f\u007f", "é ü ß 中文 😀", "\u2028\u2029", "</script>", "{\"looks\":\"like json\"}", "=HYPERLINK(\"x\")"];

/** mulberry32: pick(n) is a well-spread integer below n. */
export function seeded(seed: number) {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function randomJson(pick: (n: number) => number, depth: number): unknown {
  switch (pick(depth > 2 ? 4 : 6)) {
    case 0: return TRICKY[pick(TRICKY.length)];
    case 1: return [0, -0, 1.5, -3, 1e21, 1e-7, 123456789.125, Number.MAX_SAFE_INTEGER][pick(8)];
    case 2: return [true, false, null][pick(3)];
    case 3: return TRICKY[pick(TRICKY.length)]!.repeat(pick(3));
    case 4: return Array.from({ length: pick(4) }, () => randomJson(pick, depth + 1));
    default: return randomObject(pick, depth + 1);
  }
}

function randomObject(pick: (n: number) => number, depth: number): Record<string, unknown> {
  // Integer-like keys are where insertion order and RFC 8785 order part ways.
  const keys = ["b", "a", "10", "9", "1", "B", "é", "😀", "aa", "", ...TRICKY];
  return Object.fromEntries(Array.from({ length: pick(6) }, () => [keys[pick(keys.length)]!, randomJson(pick, depth)]));
}

export function randomEvent(pick: (n: number) => number): ChainedEvent {
  const text = () => (pick(4) === 0 ? null : TRICKY[pick(TRICKY.length)]!);
  return {
    seq: String(1 + pick(1_000_000)), id: "7d0b4a46-3f51-4c59-9b7a-2b3c4d5e6f70", at: "2026-12-03T12:00:00.000Z",
    type: "admin", action: "user.update", outcome: "success", actorType: "user", actorId: text(), actorLabel: text(),
    resourceType: text(), resourceId: text(), ipCipher: text(), ipHash: text(), userAgentCipher: text(), deviceId: text(),
    location: text(), riskScore: pick(2) ? "0.730" : null, policyDecisions: pick(2) ? [randomObject(pick, 0)] : null,
    metadata: randomObject(pick, 0), prevHash: "0".repeat(64),
  };
}
