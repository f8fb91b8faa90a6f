import { Badge } from "@/components/ui/badge";
import { DECISION_LABELS, type Decision } from "@/lib/risk/scoring";

// A risk score and the decision it led to, coloured by the default ladder's bands.

const tone = (score: number) => (score >= 0.7 ? "red" : score >= 0.3 ? "amber" : "green");

export function ScoreBadge({ score }: { score: number | null }) {
  if (score === null) return <span className="text-slate-400">—</span>;
  return <Badge tone={tone(score)}>{score.toFixed(2)}</Badge>;
}

export function DecisionBadge({ decision }: { decision: string | null }) {
  if (!decision) return <span className="text-slate-400">—</span>;
  const label = DECISION_LABELS[decision as Decision] ?? decision;
  const tones: Record<string, "green" | "neutral" | "amber" | "red"> = { allow: "green", watch: "neutral", mfa: "amber", phishing_resistant: "amber", block: "red" };
  return <Badge tone={tones[decision] ?? "neutral"}>{label}</Badge>;
}

const OUTCOME_LABELS: Record<string, string> = {
  success: "Signed in",
  invalid_credentials: "Wrong password",
  rate_limited: "Account locked",
  blocked: "Blocked",
  refused: "Refused: stronger factor needed",
  disabled: "Account disabled",
};

export function OutcomeBadge({ outcome }: { outcome: string }) {
  return <Badge tone={outcome === "success" ? "green" : outcome === "invalid_credentials" ? "amber" : "red"}>{OUTCOME_LABELS[outcome] ?? outcome}</Badge>;
}
