import { Badge } from "./ui/badge";

const TONES = { success: "green", failure: "red", blocked: "amber", requires_approval: "brand" } as const;

export function OutcomeBadge({ outcome }: { outcome: string }) {
  return <Badge tone={TONES[outcome as keyof typeof TONES] ?? "neutral"}>{outcome.replace("_", " ")}</Badge>;
}
