import { Badge } from "@/components/ui/badge";
import { NOTHING_TO_CHECK_LABEL, STATUS_LABELS } from "@/lib/compliance/catalog";
import type { ExceptionState } from "@/lib/compliance";

const TONES = { pass: "green", fail: "red", error: "red", excepted: "amber", not_tested: "neutral" } as const;

/**
 * A control's status (pass, fail, excepted, not tested) or a test result's (pass, fail, error). A pass
 * with nothing to check reads so, in grey: it says nothing about whether the control works.
 */
export function StatusBadge({ status, nothingToCheck = false }: { status: string; nothingToCheck?: boolean }) {
  const known = status in TONES ? (status as keyof typeof TONES) : "not_tested";
  if (known === "pass" && nothingToCheck) return <Badge tone="neutral">{NOTHING_TO_CHECK_LABEL}</Badge>;
  return <Badge tone={TONES[known]}>{STATUS_LABELS[known]}</Badge>;
}

const EXCEPTION_TONES: Record<ExceptionState, "brand" | "amber" | "neutral"> = { pending: "brand", in_force: "amber", expired: "neutral", revoked: "neutral", rejected: "neutral" };

/** An exception's state: pending approval, in force, expired, revoked or rejected. */
export function ExceptionStateBadge({ state }: { state: ExceptionState }) {
  return <Badge tone={EXCEPTION_TONES[state]}>{state === "in_force" ? "In force" : state === "pending" ? "Awaiting approval" : state[0]!.toUpperCase() + state.slice(1)}</Badge>;
}
