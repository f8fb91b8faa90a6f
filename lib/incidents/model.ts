// What incidents are made of: severities, statuses, indicator kinds and incident types. Pure data.

export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const STATUSES = ["open", "investigating", "contained", "resolved", "false_positive"] as const;
export type IncidentStatus = (typeof STATUSES)[number];
export const STATUS_LABELS: Record<IncidentStatus, string> = {
  open: "Open", investigating: "Investigating", contained: "Contained", resolved: "Resolved", false_positive: "False positive",
};
/** An incident in one of these takes no more alerts: a new alert opens a new incident. */
export const CLOSED_STATUSES: readonly IncidentStatus[] = ["resolved", "false_positive"];

export const INDICATOR_KINDS = ["user", "ip", "network", "device", "client"] as const;
export type IndicatorKind = (typeof INDICATOR_KINDS)[number];
export type Indicator = { kind: IndicatorKind; value: string };

export const INCIDENT_TYPES = ["credential_stuffing", "account_takeover", "token_theft", "passkey_clone", "audit_tampering", "privilege_escalation"] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];
export const INCIDENT_TYPE_LABELS: Record<IncidentType, string> = {
  credential_stuffing: "Credential stuffing",
  account_takeover: "Account takeover",
  token_theft: "Token theft",
  passkey_clone: "Cloned passkey",
  audit_tampering: "Audit trail tampering",
  privilege_escalation: "Privilege escalation",
};

export function severityRank(severity: string): number {
  return SEVERITIES.indexOf(severity as Severity) + 1;
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

/** Forensic capture starts at this severity. */
export const FORENSIC_SEVERITY: Severity = "high";

// What playbook steps and one-click responses can do (lib/incidents/actions.ts carries them out).
export const STEP_KINDS = ["revoke_tokens", "terminate_sessions", "block_ip", "lock_accounts", "require_password_reset", "require_mfa_reenrollment", "notify", "escalate"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export const STEP_LABELS: Record<StepKind, string> = {
  revoke_tokens: "Revoke all tokens and grants of the affected users",
  terminate_sessions: "End the affected users' sessions",
  block_ip: "Block the source IP or network",
  lock_accounts: "Lock the affected accounts",
  require_password_reset: "Require a new password at next sign-in",
  require_mfa_reenrollment: "Remove second factors: the user enrolls again",
  notify: "Notify a channel (signed webhook or email)",
  escalate: "Assign to a person and notify them",
};
