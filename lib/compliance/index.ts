// lib/compliance's public surface: the control catalog, the automated tests of the live system,
// their runs with evidence, control status and history, exceptions, the auditor's report and the
// user access reviews (the CSV of every account now, and reviews decided and signed off in Gatehouse).
export { CONTROLS, CONTROL_IDS, STATUS_LABELS, NOTHING_TO_CHECK_LABEL, type Control } from "./catalog";
export { CHECKS, checkTitle, signingKeyRotation, SIGNING_KEY_MAX_AGE_DAYS, type Check, type Finding } from "./checks";
export { runControlTests, scheduleControlTests, listRuns, type RunSummary, type RunView } from "./runs";
export { controlStatus, statusTrend, controlHistory, CONTROL_STATUSES, type ControlState, type ControlStatus, type CheckResultView, type FindingState, type TrendPoint } from "./status";
export { listExceptions, requestException, approveException, revokeException, exceptionRequestSchema, failingResults, type ExceptionView, type ExceptionState } from "./exceptions";
export { buildReport, auditReportDownload, verifyReport, verifyReportFile, reportPeriodSchema, type ComplianceReport, type ReportVerification } from "./report";
export { renderReportHtml, reportFromFile } from "./report-html";
export { buildAccessReview, auditAccessReviewDownload, type AccessReview } from "./access-review";
export {
  startAccessReview, decideAccess, keepSignInOnlyAccounts, completeAccessReview, listAccessReviews, accessReviewDetail, downloadAccessReview, accessDecisionSchema,
  ACCESS_DECISIONS, ACCESS_DECISION_LABELS, ACCESS_REVIEW_INTERVAL_DAYS, REVIEW_ITEM_FILTERS, REVIEW_ITEMS_SHOWN, type AccessDecision, type ReviewItemFilter, type ReviewSummary, type ReviewItemView, type ReviewDetail,
} from "./access-reviews";
