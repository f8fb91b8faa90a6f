// lib/incidents' public surface: detection, incidents, playbooks, notification channels and the
// worker that runs them. Pages and actions call these; other domains record audit events, which
// detection reads (lib/incidents calls into lib/auth, lib/oidc, lib/risk and lib/mfa to respond).
export { SEVERITIES, STATUSES, STATUS_LABELS, INCIDENT_TYPES, INCIDENT_TYPE_LABELS, CLOSED_STATUSES, STEP_KINDS, STEP_LABELS, type Severity, type IncidentStatus, type IncidentType } from "./model";
export { RULES, RULE_KEYS, type RuleKey, type RuleSetting } from "./rules";
export { listRuleVersionAttribution, ruleCommentSchema, ruleHistory, ruleSettings, saveRuleSetting, type RuleHistory } from "./rule-settings";
export { runDetection } from "./detect";
export { listResponders } from "./responders";
export {
  listIncidents, INCIDENT_LIST_LIMIT, incidentCounts, responseTimes, listOverdueCriticalIncidents, findIncident, downloadSnapshot, changeStatus, assignIncident, addNote, runResponseAction, captureNow,
  incidentFiltersSchema, statusChangeSchema, assignSchema, noteSchema, responseActionSchema, type IncidentDetail, type ResponseTimePoint, type StatusChangeResult,
} from "./incidents";
export { listPlaybooks, findPlaybook, savePlaybook, countPlaybooksInForce, listPlaybookVersionAttribution, parseSteps, playbookInputSchema, PlaybookNameTakenError, type PlaybookView, type Step } from "./playbooks";
export { dryRunPlaybook, retryRun, countUnfinishedRuns, countFailedRuns, type RetryRefusal } from "./runner";
export { ADMINS_CHANNEL, listChannels, createChannel, deleteChannel, testChannel, checkChannelSecretsSealed, newChannelSchema, ChannelNameTakenError, CHANNEL_SECRETS } from "./channels";
export { SIGNATURE_HEADER, DELIVERY_HEADER } from "./notify";
export { startIncidentEngine, stopIncidentEngine } from "./engine";
export { scheduleSnapshotRetention, SNAPSHOT_SECRETS } from "./forensics";
