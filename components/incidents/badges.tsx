import { Badge } from "@/components/ui/badge";
import { STATUS_LABELS, type IncidentStatus } from "@/lib/incidents/model";

const SEVERITY_TONES = { low: "neutral", medium: "amber", high: "red", critical: "red" } as const;

export function SeverityBadge({ severity }: { severity: string }) {
  const tone = SEVERITY_TONES[severity as keyof typeof SEVERITY_TONES] ?? "neutral";
  return <Badge tone={tone}>{severity === "critical" ? "CRITICAL" : severity}</Badge>;
}

export function StatusBadge({ status }: { status: string }) {
  const tone = status === "open" ? "red" : status === "investigating" ? "amber" : status === "contained" ? "brand" : "green";
  return <Badge tone={tone}>{STATUS_LABELS[status as IncidentStatus] ?? status}</Badge>;
}
