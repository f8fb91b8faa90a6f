// Runs once when the Next.js server starts, inside its runtime.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { announceFirstAdminPath } = await import("./lib/auth/bootstrap");
  const { recordSigningKeyRotation, scheduleAuditRetention, scheduleChainVerification } = await import("./lib/audit");
  const { readConfig } = await import("./lib/config");
  const { scheduleSigningKeyRotation, startOidc } = await import("./lib/oidc");
  const { startDecisionPointApi } = await import("./lib/policy");
  const { scheduleSnapshotRetention, startIncidentEngine } = await import("./lib/incidents");
  const { scheduleControlTests } = await import("./lib/compliance");
  const { scheduleIdleSourceSweep, scheduleLoginAttemptRetention } = await import("./lib/risk");
  const { startReadinessEndpoint } = await import("./lib/health");
  const { startChangeListener } = await import("./lib/db/changes");
  const { scheduleCounterSweep } = await import("./lib/rate-limit/counters");
  const { loadGeoDatabases } = await import("./lib/geo");
  await loadGeoDatabases();
  startChangeListener();
  await announceFirstAdminPath();
  await recordSigningKeyRotation();
  await startOidc();
  startDecisionPointApi();
  scheduleAuditRetention(readConfig().GATEHOUSE_AUDIT_RETENTION_DAYS);
  scheduleChainVerification();
  scheduleSigningKeyRotation(readConfig().GATEHOUSE_SIGNING_KEY_ROTATION_DAYS);
  scheduleLoginAttemptRetention(readConfig().GATEHOUSE_LOGIN_ATTEMPT_RETENTION_DAYS);
  scheduleCounterSweep();
  scheduleIdleSourceSweep();
  await startIncidentEngine();
  scheduleSnapshotRetention(readConfig().GATEHOUSE_FORENSIC_SNAPSHOT_RETENTION_DAYS);
  scheduleControlTests();
  startReadinessEndpoint();
}
