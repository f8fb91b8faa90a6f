import { describe, expect, it } from "vitest";
import { currentKeyProblem, signingPeriods } from "@/lib/audit/key-periods";

// Keys newest first, as configured: C signs now, B before it, A before B.
const ORDER = ["C", "B", "A"];
const MINUTE = 60_000;
const OVERLAP = 60 * MINUTE;
const T0 = Date.parse("2026-12-04T09:00:00.000Z");
/** A checkpoint at `seq` whose event is `minutes` after T0 (the injected chain time). */
const cp = (seq: number, keyId: string, minutes = seq / 1000) => ({ seq: BigInt(seq), keyId, at: T0 + minutes * MINUTE });
const firstProblem = (checkpoints: ReturnType<typeof cp>[]) => {
  const periods = signingPeriods(ORDER, OVERLAP);
  for (const { at, ...checkpoint } of checkpoints) {
    const problem = periods.dated(checkpoint, at);
    if (problem) return { seq: checkpoint.seq, problem };
  }
  return null;
};

describe("audit signing key periods", () => {
  it("accepts keys taking over in the configured order, skipped ones included", () => {
    expect(firstProblem([cp(1000, "A"), cp(1500, "A"), cp(1502, "B"), cp(2000, "B"), cp(2400, "C"), cp(3000, "C")])).toBeNull();
    expect(firstProblem([cp(1000, "A"), cp(1200, "C")])).toBeNull();
  });

  it("accepts a rolling rotation: the retired key interleaved with its replacement within the overlap, up to its very end", () => {
    expect(firstProblem([cp(1000, "A", 0), cp(1502, "B", 1), cp(2000, "A", 5), cp(3000, "B", 20), cp(4000, "A", 40), cp(5000, "A", 61)])).toBeNull();
    // Each key is judged by its own retirement: B's overlap starts when C first signs.
    expect(firstProblem([cp(1000, "A", 0), cp(1500, "B", 10), cp(2000, "C", 100), cp(3000, "B", 150)])).toBeNull();
  });

  it("refuses a retired key after the overlap, at that checkpoint, naming its replacement and when the overlap ended", () => {
    expect(firstProblem([cp(1000, "A", 0), cp(1502, "B", 1), cp(2000, "A", 30), cp(3000, "A", 61.001), cp(4000, "B", 62)])).toEqual({
      seq: BigInt(3000),
      problem: "checkpoint at 3000 is signed by key A, which key B replaced at 1502 (2026-12-04T09:01:00.000Z): the overlap for instances still on the retired key ended at 2026-12-04T10:01:00.000Z, and the chain's time at this checkpoint is 2026-12-04T10:01:00.060Z",
    });
    // A's period ends with the first newer key's checkpoint (B's), however late C takes over.
    expect(firstProblem([cp(1000, "A", 0), cp(1500, "B", 10), cp(2000, "C", 20), cp(3000, "A", 71)])?.problem).toContain("key A, which key B replaced at 1500");
    expect(firstProblem([cp(1000, "A", 0), cp(1200, "C", 5), cp(2000, "B", 66)])?.problem).toContain("which key C replaced at 1200");
  });

  it("with no overlap, holds a retired key to its replacement's first checkpoint's time", () => {
    const periods = signingPeriods(ORDER, 0);
    expect(periods.dated({ seq: BigInt(1000), keyId: "B" }, T0)).toBeNull();
    expect(periods.dated({ seq: BigInt(1001), keyId: "A" }, T0)).toBeNull();
    expect(periods.dated({ seq: BigInt(1002), keyId: "A" }, T0 + 1)).toContain("checkpoint at 1002 is signed by key A");
  });

  it("leaves keys outside the order to the caller", () => {
    expect(firstProblem([cp(1000, "C"), cp(2000, "Z")])).toBeNull();
  });

  describe("checkpoints whose events were purged", () => {
    it("ignores a retired key's checkpoints that vouch for nothing remaining, but not the anchor the chain links to", () => {
      const periods = signingPeriods(ORDER, OVERLAP);
      const firstRemainingAt = T0 + 600 * MINUTE;
      expect(periods.purged({ seq: BigInt(1000), keyId: "A", reason: "periodic" }, false, firstRemainingAt)).toBeNull();
      expect(periods.purged({ seq: BigInt(1500), keyId: "B", reason: "key_rotation" }, false, firstRemainingAt)).toBeNull();
      expect(periods.purged({ seq: BigInt(2000), keyId: "A", reason: "periodic" }, false, firstRemainingAt)).toBeNull();
      expect(periods.purged({ seq: BigInt(2400), keyId: "A", reason: "purge" }, true, firstRemainingAt)).toContain("purge checkpoint at 2400 that the remaining events link to is signed by key A, which key B replaced at 1500");
    });

    it("accepts a retired key's anchor from before its retirement", () => {
      const periods = signingPeriods(ORDER, OVERLAP);
      expect(periods.purged({ seq: BigInt(1000), keyId: "A", reason: "purge" }, true, T0)).toBeNull();
      expect(periods.dated({ seq: BigInt(1500), keyId: "B" }, T0)).toBeNull();
    });

    it("takes no retirement from a purge's checkpoint: it is signed at the purge, at an older event's place", () => {
      const periods = signingPeriods(ORDER, OVERLAP);
      // A signed checkpoints 1000 and 2000; B took over later, and a purge signed by B anchors at 1100.
      expect(periods.purged({ seq: BigInt(1000), keyId: "A", reason: "periodic" }, false, T0 + 2 * MINUTE)).toBeNull();
      expect(periods.purged({ seq: BigInt(1100), keyId: "B", reason: "purge" }, true, T0 + 2 * MINUTE)).toBeNull();
      expect(periods.dated({ seq: BigInt(2000), keyId: "A" }, T0 + 600 * MINUTE)).toBeNull();
      expect(periods.dated({ seq: BigInt(3000), keyId: "B" }, T0 + 700 * MINUTE)).toBeNull();
      expect(periods.dated({ seq: BigInt(4000), keyId: "A" }, T0 + 700 * MINUTE + OVERLAP + 1)).toContain("which key B replaced at 3000");
    });

    it("dates a purged retirement by the first remaining event", () => {
      const periods = signingPeriods(ORDER, OVERLAP);
      const firstRemainingAt = T0 + 600 * MINUTE;
      expect(periods.purged({ seq: BigInt(1500), keyId: "B", reason: "key_rotation" }, false, firstRemainingAt)).toBeNull();
      expect(periods.dated({ seq: BigInt(2000), keyId: "A" }, firstRemainingAt + OVERLAP)).toBeNull();
      expect(periods.dated({ seq: BigInt(3000), keyId: "A" }, firstRemainingAt + OVERLAP + 1)).toContain("which key B replaced at 1500");
    });
  });

  it("wants the current key's signature once a retired key has signed, but not on the newest checkpoint", () => {
    expect(currentKeyProblem([], ORDER)).toBeNull();
    expect(currentKeyProblem([cp(1000, "C")], ORDER)).toBeNull();
    expect(currentKeyProblem([cp(1000, "A"), cp(1500, "C")], ORDER)).toBeNull();
    // A rolling rotation: an instance still on B signed last (its period is key-periods' to judge).
    expect(currentKeyProblem([cp(1000, "A"), cp(1500, "C"), cp(2000, "B")], ORDER)).toBeNull();
    expect(currentKeyProblem([cp(1000, "A"), cp(1500, "B")], ORDER)).toEqual({ seq: BigInt(1500), problem: expect.stringContaining("retired key B and the current key C has signed none") });
  });
});
