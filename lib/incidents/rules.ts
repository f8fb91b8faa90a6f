// Detection rules: which audit events raise which alerts. Each rule reads one event (and, for
// credential stuffing, the failure counts lib/risk keeps) and says whether it is an alert.
// No database here: detect.ts hands in the event, the settings in force and the lookups.
import { z } from "zod";
import type { AuditEventView } from "../audit";
import { readConfig } from "../config";
import { localHourAndDay } from "../util/time-zone";
import type { IncidentType, Indicator, Severity } from "./model";
import { SEVERITIES } from "./model";

/** The audit event fields that detection reads (lib/audit's view of a stored event, IP decrypted). */
export type DetectionEvent = Pick<AuditEventView, "seq" | "at" | "action" | "outcome" | "actorType" | "actorId" | "actorLabel" | "resourceType" | "resourceId" | "ip" | "deviceId" | "riskScore" | "metadata">;

export type AlertDraft = {
  rule: RuleKey;
  type: IncidentType;
  severity: Severity;
  summary: string;
  userId: string | null;
  ip: string | null;
  indicators: Indicator[];
  details: Record<string, unknown>;
  /** Repeats of this signal from the same IP (`ip`) within the window add to one alert. */
  aggregateByIp?: { windowMinutes: number };
};

/** `source`: what the failures were counted by, the IP or (IPv6) its /64. */
export type SourceFailures = { source: string; failures: number; accounts: number };
export type DetectionLookups = { sourceFailures(ip: string, windowMinutes: number, at: Date): Promise<SourceFailures> };

// An emptied form field means "the default", not 0.
const blankIsDefault = (v: unknown) => (v === "" ? undefined : v);
const number = (min: number, max: number, fallback: number, int = true) =>
  z.preprocess(blankIsDefault, (int ? z.coerce.number().int() : z.coerce.number()).min(min).max(max).default(fallback));
/**
 * A form's checkbox sends "on" or nothing, so forms send a hidden "false" before it (["false", "on"]
 * when checked); JSON sends a boolean. Absent: the default.
 */
export const checkbox = (fallback: boolean) =>
  z.preprocess((v) => (v === undefined ? undefined : [v].flat().some((x) => x === true || x === "on" || x === "true")), z.boolean().default(fallback));

export const RULES = {
  high_risk_sign_in: {
    label: "High-risk sign-in",
    description: "A sign-in attempt scored at or above the threshold.",
    type: "account_takeover",
    severity: "high",
    params: z.object({ minScore: number(0, 1, 0.9, false) }),
  },
  credential_stuffing: {
    label: "Credential stuffing",
    description: "Many failed or refused sign-ins across many accounts from one IP within a window.",
    type: "credential_stuffing",
    severity: "high",
    params: z.object({ minFailures: number(2, 100_000, 20), minAccounts: number(2, 100_000, 5), windowMinutes: number(1, 1440, 15) }),
  },
  impossible_travel: {
    label: "Impossible travel",
    description: "A sign-in from a place the user could not have reached since their last sign-in.",
    type: "account_takeover",
    severity: "medium",
    params: z.object({}),
  },
  refresh_token_reuse: {
    label: "Refresh token or code reuse",
    description: "A spent refresh token or authorization code came back: someone holds a copy (the provider revoked the grant).",
    type: "token_theft",
    severity: "high",
    params: z.object({}),
  },
  passkey_clone: {
    label: "Cloned passkey",
    description: "A passkey's signature counter went backwards: the authenticator may have been copied.",
    type: "passkey_clone",
    severity: "high",
    params: z.object({}),
  },
  audit_chain_failure: {
    label: "Audit chain verification failed",
    description: "Verifying the hash chain found a changed, missing or reordered event.",
    type: "audit_tampering",
    severity: "critical",
    params: z.object({}),
  },
  user_reported_sign_in: {
    label: "User reported a sign-in",
    description: "A user said \"this wasn't me\" about a sign-in on their account.",
    type: "account_takeover",
    severity: "high",
    params: z.object({}),
  },
  off_hours_role_grant: {
    label: "Role granted outside working hours",
    description: "A role was granted outside working hours (UTC) or at a weekend.",
    type: "privilege_escalation",
    severity: "medium",
    params: z.object({ workdayStartHour: number(0, 24, 8), workdayEndHour: number(0, 24, 18), weekendsOff: checkbox(true) }),
  },
} as const satisfies Record<string, { label: string; description: string; type: IncidentType; severity: Severity; params: z.ZodObject }>;

export type RuleKey = keyof typeof RULES;
export const RULE_KEYS = Object.keys(RULES) as RuleKey[];

export type RuleSetting = { enabled: boolean; severity: Severity; joinWindowMinutes: number; params: Record<string, unknown> };
export const DEFAULT_JOIN_WINDOW_MINUTES = 60;
export type RuleSettings = Record<RuleKey, RuleSetting>;

export function defaultRuleSetting(rule: RuleKey): RuleSetting {
  return { enabled: true, severity: RULES[rule].severity, joinWindowMinutes: DEFAULT_JOIN_WINDOW_MINUTES, params: RULES[rule].params.parse({}) };
}

export const ruleSettingSchema = (rule: RuleKey) =>
  z.object({ enabled: checkbox(true), severity: z.enum(SEVERITIES), joinWindowMinutes: number(1, 10_080, DEFAULT_JOIN_WINDOW_MINUTES), params: RULES[rule].params });

const userIndicator = (id: string | null): Indicator[] => (id ? [{ kind: "user", value: id }] : []);
const ipIndicator = (ip: string | null): Indicator[] => (ip ? [{ kind: "ip", value: ip }] : []);
const deviceIndicator = (id: string | null | undefined): Indicator[] => (id ? [{ kind: "device", value: id }] : []);
const clientIndicator = (id: unknown): Indicator[] => (typeof id === "string" && id ? [{ kind: "client", value: id }] : []);

/** Every alert this event raises under the settings in force. */
export async function evaluate(event: DetectionEvent, settings: RuleSettings, lookups: DetectionLookups): Promise<AlertDraft[]> {
  const alerts: AlertDraft[] = [];
  const on = (rule: RuleKey) => settings[rule].enabled;
  const draft = (rule: RuleKey, summary: string, userId: string | null, extra: Partial<AlertDraft> = {}): AlertDraft => ({
    rule, type: RULES[rule].type, severity: settings[rule].severity, summary, userId, ip: event.ip,
    indicators: [...userIndicator(userId), ...ipIndicator(event.ip), ...deviceIndicator(event.deviceId)],
    details: { action: event.action, outcome: event.outcome, actor: event.actorLabel ?? event.actorId, auditSeq: event.seq },
    ...extra,
  });
  const at = new Date(event.at);
  const signInUser = event.resourceType === "user" ? event.resourceId : event.actorId;
  const score = event.riskScore === null ? null : Number(event.riskScore);
  const factors = Array.isArray(event.metadata.factors) ? (event.metadata.factors as unknown[]).map(String) : [];

  // Only attempts that got past the first factor: a failed password names an account the attacker
  // chose, and must not let anyone set off a response against it.
  const pastFirstFactor = (event.action === "auth.sign_in" && event.outcome === "success") || ["risk.sign_in_blocked", "risk.sign_in_refused"].includes(event.action);
  if (pastFirstFactor) {
    const { minScore } = settings.high_risk_sign_in.params as { minScore: number };
    if (on("high_risk_sign_in") && score !== null && score >= minScore) {
      alerts.push(draft("high_risk_sign_in", `Sign-in scored ${score.toFixed(2)} (${event.outcome})`, signInUser, { details: { action: event.action, outcome: event.outcome, score, factors, auditSeq: event.seq } }));
    }
    if (on("impossible_travel") && factors.some((f) => f.startsWith("impossible_travel:"))) {
      alerts.push(draft("impossible_travel", `Impossible travel on a sign-in (${event.outcome})`, signInUser, { details: { outcome: event.outcome, score, factors, location: event.metadata.location ?? null, auditSeq: event.seq } }));
    }
  }
  // The summary of refusals left unaudited from a flooding address (lib/auth/sign-in.ts) counts too.
  if (on("credential_stuffing") && event.ip && ((event.action === "auth.sign_in" && event.outcome === "failure") || event.action === "risk.source_blocked" || event.action === "auth.sign_in.refusals_unrecorded")) {
    const { minFailures, minAccounts, windowMinutes } = settings.credential_stuffing.params as { minFailures: number; minAccounts: number; windowMinutes: number };
    const seen = await lookups.sourceFailures(event.ip, windowMinutes, at);
    if (seen.failures >= minFailures && seen.accounts >= minAccounts) {
      // Aggregated by the source counted: an attacker rotating addresses within a /64 adds to one
      // alert rather than opening an incident per address.
      alerts.push(draft("credential_stuffing", `${seen.failures} failed passwords on ${seen.accounts} accounts from ${seen.source} in ${windowMinutes} min`, null, {
        ip: seen.source, indicators: ipIndicator(event.ip), details: { ...seen, windowMinutes, auditSeq: event.seq }, aggregateByIp: { windowMinutes },
      }));
    }
  }
  if (on("refresh_token_reuse") && (event.action === "oauth.refresh_token.reuse" || event.action === "oauth.authorization_code.reuse")) {
    const clientId = event.metadata.clientId ?? event.resourceId;
    const what = event.action === "oauth.refresh_token.reuse" ? "refresh token" : "authorization code";
    // A reused code comes from the client, before any account is loaded: the revoked grant's account is in the metadata.
    const userId = event.actorType === "user" ? event.actorId : typeof event.metadata.accountId === "string" ? event.metadata.accountId : null;
    alerts.push(draft("refresh_token_reuse", `A spent ${what} of client ${String(clientId)} was presented again`, userId, {
      indicators: [...userIndicator(userId), ...ipIndicator(event.ip), ...clientIndicator(clientId)],
      details: { clientId, grantRevoked: event.metadata.grantRevoked ?? null, auditSeq: event.seq },
    }));
  }
  if (on("passkey_clone") && event.action === "mfa.passkey.clone_suspected") {
    const userId = typeof event.metadata.userId === "string" ? event.metadata.userId : null;
    alerts.push(draft("passkey_clone", "A passkey's signature counter went backwards", userId, { details: { passkeyId: event.resourceId, auditSeq: event.seq } }));
  }
  if (on("audit_chain_failure") && event.action === "audit.chain.verify" && event.outcome === "failure") {
    alerts.push(draft("audit_chain_failure", `Audit chain broken at sequence ${String(event.metadata.firstBadSeq ?? "?")}`, null, {
      indicators: [], details: { firstBadSeq: event.metadata.firstBadSeq ?? null, problem: event.metadata.problem ?? null, auditSeq: event.seq },
    }));
  }
  if (on("user_reported_sign_in") && event.action === "risk.user_reported_sign_in") {
    // The indicators are the reported attempt's, not those of the user reporting it.
    const ip = typeof event.metadata.attemptIp === "string" ? event.metadata.attemptIp : null;
    const device = typeof event.metadata.attemptDeviceId === "string" ? event.metadata.attemptDeviceId : null;
    alerts.push(draft("user_reported_sign_in", "A user reported a sign-in as not theirs", event.actorId, {
      ip, indicators: [...userIndicator(event.actorId), ...ipIndicator(ip), ...deviceIndicator(device)], details: { ...event.metadata, auditSeq: event.seq },
    }));
  }
  const granted = rolesGrantedByAPerson(event);
  if (on("off_hours_role_grant") && granted.length > 0) {
    const p = settings.off_hours_role_grant.params as { workdayStartHour: number; workdayEndHour: number; weekendsOff: boolean };
    if (outsideWorkingHours(at, p)) {
      alerts.push(draft("off_hours_role_grant", `Granted ${granted.join(", ")} at ${at.toISOString().slice(11, 16)} UTC`, event.resourceId, {
        indicators: [...userIndicator(event.resourceId), ...ipIndicator(event.ip)],
        details: { granted, grantedBy: event.actorLabel ?? event.actorId, auditSeq: event.seq },
      }));
    }
  }
  return alerts;
}

/** Roles beyond "user" that a person gave someone: by changing their roles, or by creating the account with them. */
function rolesGrantedByAPerson(event: DetectionEvent): string[] {
  if (event.actorType === "system") return [];
  const roles = event.action === "user.roles.update" ? event.metadata.granted : event.action === "user.create" ? event.metadata.roles : null;
  return Array.isArray(roles) ? roles.map(String).filter((role) => role !== "user") : [];
}

/** Whether `at` is outside the working hours `p` names, in the organisation's time zone (GATEHOUSE_TIME_ZONE). */
export function outsideWorkingHours(at: Date, p: { workdayStartHour: number; workdayEndHour: number; weekendsOff: boolean }, timeZone = readConfig().GATEHOUSE_TIME_ZONE): boolean {
  const { hour, dayOfWeek } = localHourAndDay(at, timeZone);
  if (p.weekendsOff && (dayOfWeek === 0 || dayOfWeek === 6)) return true;
  return hour < p.workdayStartHour || hour >= p.workdayEndHour;
}
