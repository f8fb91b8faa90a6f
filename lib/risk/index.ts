// lib/risk's public surface: the sign-in pipeline assesses and records through it; the admin
// console and the account page read and configure through it.
export { assessSignIn, beginPasswordAttempt, scheduleIdleSourceSweep, type Assessment, type AttemptSubject, type InFlight } from "./assess";
export { recordAttempt, learnFromCompletedSignIn, trustAttemptPlace, placeTrustable, type TrustRefusal, sourceFailures, purgeLoginAttempts, scheduleLoginAttemptRetention, type AttemptOutcome, type AttemptRecord } from "./attempts";
export { requiredStrength, FACTOR_CODES, FACTOR_LABELS, DECISIONS, DECISION_LABELS, type Decision, type Factor, type FactorCode } from "./scoring";
export { currentRiskSettings, saveRiskSettings, listRiskSettingsVersions, listRiskSettingsVersionAttribution, riskSettingsSchema, newRiskSettingsSchema, DEFAULT_RISK_SETTINGS, type RiskSettings } from "./settings";
export { listIpRules, IP_RULES_SHOWN, addIpRule, removeIpRule, ipRuleKind, IpRuleRefusedError, newIpRuleSchema, IP_RULE_KINDS } from "./ip-rules";
export { riskOverview, signInRiskSummary, findAttempt, recentSignIns, reportSignIn, RISK_RANGES, type RiskRange, type RiskOverview, type SignInRiskSummary, type AttemptSummary, type TimelinePoint } from "./reports";
