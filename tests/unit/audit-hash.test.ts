import { hash } from "node:crypto";
import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import { canonicalJson, eventHash, eventTextHash } from "@/lib/audit/hash";
import type { ChainedEvent } from "@/lib/audit/events";
import { randomEvent, seeded } from "../support/random-events";

// The chain's definition is SHA-256 over canonicalize(event) (RFC 8785). The hash is built from
// stored JSON text instead; these events, full of the strings and keys that JSON serialisers
// disagree on, must hash exactly as the definition says.
const definition = (event: ChainedEvent) => hash("sha256", canonicalize(event)!, "hex");

describe("the audit chain's hash", () => {
  it("is SHA-256 of the RFC 8785 form, from values and from stored canonical text alike", () => {
    const pick = seeded(8785);
    const seen = { policyDecisions: 0, nullLocation: 0 };
    for (let i = 0; i < 2_000; i++) {
      const event = randomEvent(pick);
      seen.policyDecisions += event.policyDecisions === null ? 0 : 1;
      seen.nullLocation += event.location === null ? 1 : 0;
      const expected = definition(event);
      expect(eventHash(event)).toBe(expected);
      // As stored: JSON fields as text (policy decisions may be SQL NULL).
      expect(eventTextHash({ ...event, metadata: canonicalJson(event.metadata), policyDecisions: event.policyDecisions === null ? null : canonicalJson(event.policyDecisions) })).toBe(expected);
    }
    // The generator reaches both sides of every choice.
    expect(seen.policyDecisions).toBeGreaterThan(500);
    expect(seen.nullLocation).toBeGreaterThan(200);
  });

  it("changes when any one field changes", () => {
    const event = randomEvent(seeded(1));
    const base = eventHash(event);
    for (const key of Object.keys(event) as (keyof ChainedEvent)[]) {
      const altered = key === "metadata" ? { ...event.metadata, extra: 1 } : key === "policyDecisions" ? [{ extra: 1 }] : `${String(event[key] ?? "")}x`;
      expect(eventHash({ ...event, [key]: altered }), key).not.toBe(base);
    }
  });
});
