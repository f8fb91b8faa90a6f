// lib/audit's public surface. Every domain records through recordAuditEvent; lib/audit calls no
// other domain.
export { recordAuditEvent, AUDIT_SEALED } from "./record";
export { AUDIT_TYPES, AUDIT_OUTCOMES, SYSTEM_ACTOR, type AuditEventInput, type AuditActor, type AuditType, type StoredEvent } from "./events";
export { verifyChain, type ChainVerification } from "./verify";
export { verifyChainAndRecord, verifyChainIfDue, scheduleChainVerification, lastChainVerification, type ChainVerificationRecord } from "./scheduled-verify";
export {
  searchAuditEvents, countAuditEvents, findAuditEvent, checkAuditEvent, checkAuditEvents, auditEventsAfter, distinctMetadataValues, auditFiltersSchema, parseSeq, AUDIT_PAGE_SIZE,
  type AuditFilters, type AuditEventView, type AuditEventCheck, type DistinctMetadataQuery,
} from "./search";
export { exportAuditEvents, findExportManifest, listRecentExports, EXPORT_FORMATS, type ExportFormat } from "./export";
export { recordSigningKeyRotation, auditSigningKeyIds, auditPublicKey } from "./signing-key";
export { purgeAuditEvents, applyAuditRetention, scheduleAuditRetention } from "./retention";
export type { ExportManifest } from "./manifest";
export { audit, userContext, SYSTEM_CONTEXT, type AuditContext } from "./context";
export { eventHash } from "./hash";
export { oldestEventSeq } from "./store";
