import { describe, expect, it } from "vitest";
import { currentKeyProblem, signingPeriodCheck } from "@/lib/audit/key-periods";

// Keys newest first, as configured: C signs now, B before it, A before B.
const ORDER = ["C", "B", "A"];
const cp = (seq: number, keyId: string) => ({ seq: BigInt(seq), keyId });
const firstProblem = (checkpoints: { seq: bigint; keyId: string }[]) => {
  const check = signingPeriodCheck(ORDER);
  for (const checkpoint of checkpoints) {
    const problem = check(checkpoint);
    if (problem) return { seq: checkpoint.seq, problem };
  }
  return null;
};

describe("audit signing key periods", () => {
  it("accepts keys taking over in the configured order, skipped ones included", () => {
    expect(firstProblem([cp(1000, "A"), cp(1500, "A"), cp(1502, "B"), cp(2000, "B"), cp(2400, "C"), cp(3000, "C")])).toBeNull();
    expect(firstProblem([cp(1000, "A"), cp(1200, "C")])).toBeNull();
  });

  it("refuses a key after a newer one has signed, at that checkpoint", () => {
    expect(firstProblem([cp(1000, "A"), cp(1502, "B"), cp(2000, "A"), cp(3000, "B")])).toEqual({
      seq: BigInt(2000), problem: expect.stringContaining("key A, which key B replaced at 1502"),
    });
    expect(firstProblem([cp(1000, "B"), cp(1200, "C"), cp(2000, "B")])?.seq).toBe(BigInt(2000));
    expect(firstProblem([cp(1000, "A"), cp(1200, "C"), cp(2000, "B")])?.problem).toContain("which key C replaced at 1200");
  });

  it("leaves keys outside the order to the caller", () => {
    expect(firstProblem([cp(1000, "C"), cp(2000, "Z")])).toBeNull();
  });

  it("wants the current key's signature once a retired key has signed", () => {
    expect(currentKeyProblem([], ORDER)).toBeNull();
    expect(currentKeyProblem([cp(1000, "C")], ORDER)).toBeNull();
    expect(currentKeyProblem([cp(1000, "A"), cp(1500, "C")], ORDER)).toBeNull();
    expect(currentKeyProblem([cp(1000, "A"), cp(1500, "B")], ORDER)).toEqual({ seq: BigInt(1500), problem: expect.stringContaining("retired key B and the current key C has signed none") });
  });
});
