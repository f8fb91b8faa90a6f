import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { recordAuditEvent } from "@/lib/audit";
import { userContext } from "@/lib/audit/context";
import { signInWithPasskey, signInWithPassword, UNCHECKED_REFUSALS_AUDITED_PER_SOURCE_PER_HOUR } from "@/lib/auth/sign-in";
import { listActiveAdmins, setDisabled } from "@/lib/auth/users";
import { addIpRule } from "@/lib/risk";
import { consoleAllows, DEFAULT_POLICIES, publishPolicies, type ConsoleSubject } from "@/lib/policy";
import {
  changeStatus, countFailedRuns, createChannel, downloadSnapshot, dryRunPlaybook, listChannels, listOverdueCriticalIncidents, parseSteps, runDetection, ruleHistory, ruleSettings, RULES, runResponseAction, saveRuleSetting, savePlaybook, startIncidentEngine, stopIncidentEngine,
  PlaybookNameTakenError, responseActionSchema, responseTimes, testChannel, ADMINS_CHANNEL, type Step,
} from "@/lib/incidents";
import { ChannelNameTakenError, newChannelSchema, resolveChannel } from "@/lib/incidents/channels";
import { defaultRuleSetting } from "@/lib/incidents/rules";
import { ensureDefaultPlaybooks } from "@/lib/incidents/playbooks";
import { abandonRun, countUnfinishedRuns, executeRun, requeueStalledRuns, retryRun } from "@/lib/incidents/runner";
import { resetDatabase } from "../support/db";
import { startSmtpSink } from "../support/smtp";
import { TEST_PASSWORD, client, ctx, makeUser, uniqueEmail } from "../support/factories";
import { enrollTotp } from "../support/mfa";

// Runs get a short lease here, so a worker killed mid-run is replaced within seconds.
process.env.GATEHOUSE_PLAYBOOK_TIMEOUT_SECONDS = "3";
// Detection runs when a test calls it, not on a timer.
process.env.GATEHOUSE_DETECTION_INTERVAL_MS = "600000";
// The test receivers listen on loopback, an internal receiver as an operator would list one.
process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS = "127.0.0.1";

const ATTACKER = "203.0.113.50";

beforeAll(async () => {
  await resetDatabase();
  await startIncidentEngine();
});
afterAll(stopIncidentEngine);
beforeEach(resetDatabase);

async function playbook(name: string, triggerType: Parameters<typeof savePlaybook>[1]["triggerType"], steps: Step[], minSeverity: Parameters<typeof savePlaybook>[1]["minSeverity"] = "low") {
  return (await savePlaybook(null, { name, enabled: true, triggerType, minSeverity, steps, comment: "test" }, ctx))!;
}

async function finishedRun(incidentId: string) {
  await expect.poll(async () => (await db().playbookRun.findFirst({ where: { incidentId } }))?.status, { timeout: 20_000, interval: 200 }).toMatch(/succeeded|failed/);
  return db().playbookRun.findFirstOrThrow({ where: { incidentId }, include: { steps: { orderBy: { index: "asc" } } } });
}

const reportSignIn = (userId: string, ip = "198.51.100.9") =>
  recordAuditEvent({ type: "security", action: "risk.user_reported_sign_in", outcome: "success", actor: { type: "user", id: userId, label: null }, client: { ip }, metadata: { attemptId: "a1" } });
/** The incident a user's "this wasn't me" report opens, once detection has run. */
async function reportedIncident(userId: string) {
  await reportSignIn(userId);
  await runDetection();
  return db().incident.findFirstOrThrow();
}

describe("detection and correlation", () => {
  it("an address that first floods worthless passkey answers (audited only up to a bound) still raises credential stuffing", async () => {
    for (let i = 0; i < UNCHECKED_REFUSALS_AUDITED_PER_SOURCE_PER_HOUR + 10; i++) await signInWithPasskey({ challengeId: "x", response: "x" }, client(ATTACKER), null);
    const victims = await Promise.all(Array.from({ length: 6 }, () => makeUser()));
    // Wrong passwords across a dozen accounts: the risk engine blocks the source part way, and the refusals go on.
    for (let i = 0; i < 40; i++) {
      const email = i % 2 === 0 ? uniqueEmail("nobody") : victims[i % victims.length]!.email;
      await signInWithPassword({ email, password: `guess-${i}` }, client(ATTACKER), null);
    }
    await runDetection();
    expect(await db().alert.findFirst({ where: { rule: "credential_stuffing" } })).toMatchObject({ details: expect.objectContaining({ source: ATTACKER }) });
  });

  it("credential stuffing opens one incident, the playbook blocks the IP, and the next attempt from it is refused", async () => {
    await playbook("Block stuffing", "credential_stuffing", [{ kind: "block_ip", critical: true, scope: "ip", hours: 24 }], "high");
    const victims = await Promise.all(Array.from({ length: 6 }, () => makeUser()));
    for (let i = 0; i < 24; i++) {
      const email = i % 4 === 0 ? uniqueEmail("nobody") : victims[i % victims.length]!.email;
      expect(await signInWithPassword({ email, password: `guess-${i}` }, client(ATTACKER), null)).toMatchObject({ ok: false });
    }

    const pass = await runDetection();
    expect(pass.incidentsOpened).toBe(1);
    const incidents = await db().incident.findMany({ include: { alerts: true, indicators: true } });
    expect(incidents).toHaveLength(1);
    const incident = incidents[0]!;
    expect(incident.type).toBe("credential_stuffing");
    const stuffing = incident.alerts.filter((a) => a.rule === "credential_stuffing");
    expect(stuffing).toHaveLength(1);
    expect(stuffing[0]!.count).toBeGreaterThan(1);
    expect(incident.indicators).toContainEqual(expect.objectContaining({ kind: "ip", value: ATTACKER }));
    // Failed passwords name accounts the attacker chose: they are not affected users to respond against.
    expect(incident.indicators.filter((i) => i.kind === "user")).toEqual([]);

    const run = await finishedRun(incident.id);
    expect(run.status).toBe("succeeded");
    expect(run.steps.map((s) => [s.kind, s.status])).toEqual([["block_ip", "ok"]]);
    expect(await db().ipRule.findFirst({ where: { cidr: `${ATTACKER}/32`, kind: "block" } })).toMatchObject({ note: expect.stringContaining(`INC-${incident.number}`) });

    // Even with the right password, the source is refused by the block list.
    const next = await signInWithPassword({ email: victims[0]!.email, password: TEST_PASSWORD }, client(ATTACKER), null);
    expect(next).toEqual({ ok: false, reason: "refused", refusal: "source_blocked" });
    const attempt = await db().loginAttempt.findFirstOrThrow({ where: { email: victims[0]!.email }, orderBy: { at: "desc" } });
    expect((attempt.factors as { code: string }[]).map((f) => f.code)).toContain("ip_blocklisted");
    // The victims' accounts stay usable from elsewhere.
    expect(await signInWithPassword({ email: victims[0]!.email, password: TEST_PASSWORD }, client("198.51.100.20"), null)).toMatchObject({ ok: true });

    // Reading the trail again raises nothing twice.
    await db().detectionCursor.update({ where: { id: 1 }, data: { lastSeq: 0 } });
    await runDetection();
    expect(await db().incident.count()).toBe(1);
    expect(await db().alert.count({ where: { rule: "credential_stuffing" } })).toBe(1);
  });

  it("failures from an address on the allow list (an office's NAT) raise the incident, but the playbook does not block the colleagues behind it", async () => {
    await playbook("Block stuffing", "credential_stuffing", [{ kind: "block_ip", critical: true, scope: "ip", hours: 24 }], "high");
    await addIpRule({ cidr: "203.0.0.0/16", kind: "allow", note: "office NAT" }, ctx);
    const colleague = await makeUser();
    for (let i = 0; i < 24; i++) await signInWithPassword({ email: uniqueEmail("nobody"), password: `guess-${i}` }, client(ATTACKER), null);
    expect((await runDetection()).incidentsOpened).toBe(1);
    const [incident] = await db().incident.findMany();
    const run = await finishedRun(incident!.id);
    expect(run.status).toBe("succeeded");
    expect(run.steps.map((s) => [s.kind, s.status, s.detail])).toEqual([["block_ip", "skipped", `Not blocked, on the allow list: ${ATTACKER}/32 (allowed by 203.0.0.0/16: office NAT).`]]);
    expect(await db().ipRule.count({ where: { kind: "block" } })).toBe(0);
    expect(await signInWithPassword({ email: colleague.email, password: TEST_PASSWORD }, client(ATTACKER), null)).toMatchObject({ ok: true });
  });

  it("an attack still going when its alert is six hours old raises a new alert, and the playbook puts a lapsed block back", async () => {
    await playbook("Block stuffing", "credential_stuffing", [{ kind: "block_ip", critical: true, scope: "ip", hours: 24 }], "high");
    const guess = (i: number) => signInWithPassword({ email: uniqueEmail("nobody"), password: `guess-${i}` }, client(ATTACKER), null);
    for (let i = 0; i < 24; i++) await guess(i);
    await runDetection();
    const [incident] = await db().incident.findMany();
    expect((await finishedRun(incident!.id)).status).toBe("succeeded");

    // More failures counted on the alert keep its incident recent (else the next alert, past the join window, would open another).
    await db().incident.updateMany({ data: { lastAlertAt: new Date(Date.now() - 2 * 3_600_000) } });
    await guess(98);
    await runDetection();
    expect(await db().alert.count({ where: { rule: "credential_stuffing" } })).toBe(1);
    expect((await db().incident.findFirstOrThrow()).lastAlertAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
    // Hours later: the alert is old, the block has run out, and the attacker is back.
    await db().alert.updateMany({ data: { createdAt: new Date(Date.now() - 7 * 3_600_000) } });
    await db().ipRule.updateMany({ data: { expiresAt: new Date(Date.now() - 60_000) } });
    // (Refused still, by the velocity limit on the source: a refusal feeds the rule as a failure does.)
    expect(await guess(99)).toMatchObject({ ok: false });
    await runDetection();
    const alerts = await db().alert.findMany({ where: { rule: "credential_stuffing" }, orderBy: { createdAt: "asc" } });
    expect(alerts.map((a) => a.incidentId)).toEqual([incident!.id, incident!.id]);
    await expect.poll(async () => db().playbookRun.count({ where: { incidentId: incident!.id, status: "succeeded" } }), { timeout: 20_000, interval: 200 }).toBe(2);
    expect(await db().ipRule.count({ where: { cidr: `${ATTACKER}/32`, kind: "block", expiresAt: { gt: new Date(Date.now() + 23 * 3_600_000) } } })).toBe(1);
  });

  it("credential stuffing that rotates addresses within one IPv6 /64 is one alert and incident, and the playbook blocks the /64", async () => {
    await playbook("Block stuffing", "credential_stuffing", [{ kind: "block_ip", critical: true, scope: "ip", hours: 24 }], "high");
    for (let i = 1; i <= 24; i++) {
      expect(await signInWithPassword({ email: uniqueEmail("nobody"), password: `guess-${i}` }, client(`2001:db8:66:1::${i.toString(16)}`), null)).toMatchObject({ ok: false });
    }
    expect((await runDetection()).incidentsOpened).toBe(1);
    const [incident] = await db().incident.findMany({ include: { alerts: true } });
    expect(incident!.alerts).toEqual([expect.objectContaining({ rule: "credential_stuffing", ipAddress: "2001:db8:66:1::/64", summary: expect.stringContaining("from 2001:db8:66:1::/64") })]);
    expect((await finishedRun(incident!.id)).status).toBe("succeeded");
    expect(await db().ipRule.findFirst({ where: { cidr: "2001:db8:66:1::/64", kind: "block" } })).not.toBeNull();
    expect(await signInWithPassword({ email: uniqueEmail(), password: TEST_PASSWORD }, client("2001:db8:66:1::ffff"), null)).toEqual({ ok: false, reason: "refused", refusal: "source_blocked" });
  });

  it("alerts about one user within the join window share an incident; later ones open a new one", async () => {
    const user = await makeUser();
    await reportSignIn(user.id);
    await recordAuditEvent({ type: "security", action: "mfa.passkey.clone_suspected", outcome: "blocked", actor: { type: "user", id: null, label: null }, resource: { type: "passkey", id: "pk1" }, metadata: { userId: user.id } });
    await runDetection();
    const [incident] = await db().incident.findMany({ include: { alerts: true } });
    expect(incident!.alerts.map((a) => a.rule).sort()).toEqual(["passkey_clone", "user_reported_sign_in"]);

    // Resolved incidents take no more alerts.
    await db().incident.update({ where: { id: incident!.id }, data: { status: "resolved" } });
    await reportSignIn(user.id);
    await runDetection();
    expect(await db().incident.count()).toBe(2);
  });

  it("a chain found broken again joins the open tampering incident instead of opening another", async () => {
    const broken = (seq: number) => recordAuditEvent({ type: "security", action: "audit.chain.verify", outcome: "failure", actor: { type: "system", id: null, label: "scheduler" }, metadata: { firstBadSeq: String(seq), problem: "changed" } });
    await broken(7);
    await runDetection();
    await broken(7);
    await runDetection();
    const incidents = await db().incident.findMany({ include: { alerts: true } });
    expect(incidents.map((i) => [i.type, i.alerts.length])).toEqual([["audit_tampering", 2]]);
  });

  it("thresholds are editable: a disabled rule raises nothing, a lower score threshold raises more", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const actor = userContext(admin, null);
    expect(await saveRuleSetting("user_reported_sign_in", { enabled: false, severity: "high", joinWindowMinutes: 60, params: {} }, "reports go to the help desk now", actor)).toMatchObject({ ok: true, version: 1 });
    expect(await saveRuleSetting("high_risk_sign_in", { enabled: "on", severity: "medium", joinWindowMinutes: 60, params: { minScore: "1.5" } }, "fewer alerts", actor))
      .toMatchObject({ ok: false, errors: { "params.minScore": expect.any(String) } });
    await reportSignIn(admin.id);
    await runDetection();
    expect(await db().incident.count()).toBe(0);
    expect(await db().auditEvent.count({ where: { action: "incident.rule.update" } })).toBe(1);
  });

  it("every save of a rule is a new version with its author and why; a form showing an older version saves nothing", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const actor = userContext(admin, null);
    const setting = (minScore: number) => ({ enabled: true, severity: "high", joinWindowMinutes: 60, params: { minScore } });
    expect(await saveRuleSetting("high_risk_sign_in", setting(0.8), "  ", actor, 0)).toMatchObject({ ok: false, reason: "invalid", errors: { comment: "Say why, for the history." } });
    expect(await saveRuleSetting("high_risk_sign_in", setting(0.8), "too many alerts from the VPN", actor, 0)).toMatchObject({ ok: true, version: 1 });
    expect(await saveRuleSetting("high_risk_sign_in", setting(0.9), "quieter still", actor, 1)).toMatchObject({ ok: true, version: 2 });
    // Another admin's page still shows version 1: saving it would quietly undo version 2.
    expect(await saveRuleSetting("high_risk_sign_in", setting(0.5), "louder", actor, 1)).toEqual({ ok: false, reason: "stale", newest: 2 });

    expect((await ruleSettings()).high_risk_sign_in.params).toEqual({ minScore: 0.9 });
    const history = (await ruleHistory()).high_risk_sign_in;
    expect(history.version).toBe(2);
    expect(history.versions.map((v) => [v.version, v.author, v.comment, v.changes])).toEqual([
      [2, admin.email, "quieter still", { "params.minScore": { from: "0.8", to: "0.9" } }],
      [1, admin.email, "too many alerts from the VPN", expect.objectContaining({ "params.minScore": { from: String(RULES.high_risk_sign_in.params.parse({}).minScore), to: "0.8" } })],
    ]);
    expect((await ruleHistory()).user_reported_sign_in).toEqual({ version: 0, readable: true, versions: [] });

    // A version that no longer reads as a setting (written by hand, or a threshold since renamed):
    // the rule's defaults apply, and the page says so rather than claim the version is in force.
    await db().detectionRuleVersion.create({ data: { rule: "high_risk_sign_in", version: 3, enabled: false, severity: "high", joinWindowMinutes: 60, params: { minScore: "loud" }, comment: "by hand", authorId: null } });
    expect((await ruleSettings()).high_risk_sign_in).toEqual(defaultRuleSetting("high_risk_sign_in"));
    expect((await ruleHistory()).high_risk_sign_in).toMatchObject({ version: 3, readable: false, versions: [{ version: 3, author: null, changes: null }, { version: 2 }, { version: 1 }] });
    const events = await db().auditEvent.findMany({ where: { action: "incident.rule.update" }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.outcome, e.actorId, (e.metadata as { comment?: string }).comment ?? (e.metadata as { reason: string }).reason])).toEqual([
      ["success", admin.id, "too many alerts from the VPN"], ["success", admin.id, "quieter still"], ["failure", admin.id, "stale"],
    ]);
  });

  it("an account created with a privileged role outside working hours raises the same alert", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    await saveRuleSetting("off_hours_role_grant", { enabled: true, severity: "medium", joinWindowMinutes: 60, params: { workdayStartHour: 0, workdayEndHour: 0, weekendsOff: true } }, "no working hours: every grant alerts", userContext(admin, null));
    const created = await makeUser();
    await recordAuditEvent({ type: "admin", action: "user.create", outcome: "success", actor: { type: "user", id: admin.id, label: admin.email }, resource: { type: "user", id: created.id }, metadata: { email: created.email, roles: ["user", "auditor"] } });
    await runDetection();
    const alerts = await db().alert.findMany({ where: { rule: "off_hours_role_grant" } });
    // Accounts the system created (the factory's, the first admin's) are not grants by a person.
    expect(alerts.map((a) => [a.userId, a.summary.replace(/\d\d:\d\d/, "hh:mm")])).toEqual([[created.id, "Granted auditor at hh:mm UTC"]]);
  });

  it("a role granted outside working hours raises privilege escalation; forensic capture at high severity stores a hash of its content", async () => {
    const user = await makeUser();
    // A workday from 00:00 to 00:00 has no working hours: every grant is outside them, whenever the test runs.
    const admin = await makeUser({ roles: ["admin"] });
    await saveRuleSetting("off_hours_role_grant", { enabled: true, severity: "medium", joinWindowMinutes: 60, params: { workdayStartHour: 0, workdayEndHour: 0, weekendsOff: true } }, "no working hours: every grant alerts", userContext(admin, null));
    await recordAuditEvent({ type: "admin", action: "user.roles.update", outcome: "success", actor: { type: "user", id: null, label: "root@example.test" }, resource: { type: "user", id: user.id }, metadata: { before: ["user"], after: ["user", "admin"], granted: ["admin"], revoked: [] } });
    await runDetection();
    expect(await db().alert.findFirstOrThrow({ where: { rule: "off_hours_role_grant" } })).toMatchObject({ userId: user.id, summary: expect.stringMatching(/^Granted admin at \d\d:\d\d UTC$/) });

    await reportSignIn(user.id);
    await runDetection();
    const snapshot = await db().forensicSnapshot.findFirstOrThrow();
    // Stored encrypted: it holds what the audit trail keeps encrypted (addresses, user agents).
    expect(snapshot.content).not.toContain(user.email);

    // Handing it out is audited with its hash; another incident's id finds nothing.
    const analyst = userContext(await makeUser({ roles: ["analyst"] }), null);
    expect(await downloadSnapshot(crypto.randomUUID(), snapshot.id, analyst)).toBeNull();
    const content = (await downloadSnapshot(snapshot.incidentId, snapshot.id, analyst))!.content;
    expect(createHash("sha256").update(content).digest("hex")).toBe(snapshot.sha256);
    expect(JSON.parse(content).users[0].user.email).toBe(user.email);
    expect(await db().auditEvent.findMany({ where: { action: "incident.forensics.download" } })).toMatchObject([{ resourceId: snapshot.incidentId, metadata: { snapshotId: snapshot.id, sha256: snapshot.sha256 } }]);
  });

  it("snapshots stored in clear from before encryption are sealed, and snapshots past their retention are deleted (audited)", async () => {
    const { applySnapshotRetention, sealPlaintextSnapshots } = await import("@/lib/incidents/forensics");
    const incident = await db().incident.create({ data: { type: "test", title: "Retention", severity: "high", lastAlertAt: new Date() } });
    const old = await db().forensicSnapshot.create({ data: { incidentId: incident.id, capturedAt: new Date(Date.now() - 31 * 86_400_000), reason: "old", content: '{"a":1}', sha256: "x" } });
    const recent = await db().forensicSnapshot.create({ data: { incidentId: incident.id, reason: "recent", content: '{"ip":"203.0.113.9"}', sha256: createHash("sha256").update('{"ip":"203.0.113.9"}').digest("hex") } });
    const analyst = userContext(await makeUser({ roles: ["analyst"] }), null);
    // Readable as stored before the sweep, and after it.
    expect((await downloadSnapshot(incident.id, recent.id, analyst))?.content).toBe('{"ip":"203.0.113.9"}');

    expect(await applySnapshotRetention(30)).toBe(1);
    expect(await sealPlaintextSnapshots()).toBe(1);
    expect(await db().forensicSnapshot.findUnique({ where: { id: old.id } })).toBeNull();
    expect((await db().forensicSnapshot.findUniqueOrThrow({ where: { id: recent.id } })).content).not.toContain("203.0.113.9");
    expect((await downloadSnapshot(incident.id, recent.id, analyst))?.content).toBe('{"ip":"203.0.113.9"}');
    expect(await db().auditEvent.findMany({ where: { action: "incident.forensics.purge" } })).toMatchObject([{ outcome: "success", metadata: { days: 30, purged: 1, snapshots: [{ id: old.id, incidentId: incident.id }] } }]);
    // 0 keeps every snapshot.
    await db().forensicSnapshot.update({ where: { id: recent.id }, data: { capturedAt: new Date(0) } });
    expect(await applySnapshotRetention(0)).toBe(0);
    expect(await sealPlaintextSnapshots()).toBe(0);
  });
});

describe("playbooks", () => {
  it("refresh token reuse revokes the user's grants and sessions through the playbook", async () => {
    await playbook("Stolen token", "token_theft", [{ kind: "revoke_tokens", critical: true }, { kind: "terminate_sessions", critical: false }]);
    const user = await makeUser();
    const other = await makeUser();
    const session = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    expect(session.ok).toBe(true);
    for (const [kind, id, accountId] of [["Grant", "g1", user.id], ["RefreshToken", "r1", user.id], ["AccessToken", "a1", user.id], ["Grant", "g2", other.id]] as const) {
      await db().oidcModel.create({ data: { kind, id, payload: { accountId, clientId: "app" }, accountId, clientId: "app", grantId: kind === "Grant" ? null : "g1" } });
    }
    await recordAuditEvent({
      type: "security", action: "oauth.refresh_token.reuse", outcome: "blocked", actor: { type: "user", id: user.id, label: null }, client: { ip: "198.51.100.77" },
      resource: { type: "oauth_client", id: "app" }, metadata: { clientId: "app", grantRevoked: true },
    });
    await runDetection();
    const incident = await db().incident.findFirstOrThrow({ include: { indicators: true } });
    expect(incident.type).toBe("token_theft");
    expect(incident.indicators).toContainEqual(expect.objectContaining({ kind: "client", value: "app" }));
    const run = await finishedRun(incident.id);
    expect(run.steps.map((s) => [s.kind, s.status])).toEqual([["revoke_tokens", "ok"], ["terminate_sessions", "ok"]]);
    expect(await db().oidcModel.findMany({ select: { id: true } })).toEqual([{ id: "g2" }]);
    expect(await db().session.count({ where: { userId: user.id, endedAt: null } })).toBe(0);
    expect(await db().session.findFirst({ where: { userId: user.id } })).toMatchObject({ endReason: "incident_response" });
  });

  it("each alert runs the playbook for its own user: a later one on the incident is answered too, and no one else is", async () => {
    await playbook("Sign out", "account_takeover", [{ kind: "terminate_sessions", critical: true }]);
    const [alice, bob] = [await makeUser(), await makeUser()];
    const reportFrom = (user: { id: string }) =>
      recordAuditEvent({ type: "security", action: "risk.user_reported_sign_in", outcome: "success", actor: { type: "user", id: user.id, label: null }, metadata: { attemptIp: ATTACKER } });
    const signedIn = (user: { email: string }) => signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    await signedIn(alice);
    await reportFrom(alice);
    await runDetection();
    const incident = await db().incident.findFirstOrThrow();
    expect((await finishedRun(incident.id)).status).toBe("succeeded");
    expect(await db().session.count({ where: { userId: alice.id, endedAt: null } })).toBe(0);

    // Alice signs in again; Bob reports a sign-in from the same address: his alert joins the incident.
    await signedIn(alice);
    await signedIn(bob);
    await reportFrom(bob);
    await runDetection();
    expect(await db().incident.count()).toBe(1);
    await expect.poll(async () => (await db().playbookRun.findMany({ where: { incidentId: incident.id }, select: { status: true } })).map((r) => r.status), { timeout: 20_000, interval: 200 }).toEqual(["succeeded", "succeeded"]);
    expect(await db().session.count({ where: { userId: bob.id, endedAt: null } })).toBe(0);
    expect(await db().session.count({ where: { userId: alice.id, endedAt: null } })).toBe(1);
  });

  it("a job that gives up leaves a run another worker holds (a live lease) alone; one nobody holds ends failed", async () => {
    const pb = await playbook("Sign out", "account_takeover", [{ kind: "terminate_sessions", critical: true }]);
    const incident = await db().incident.create({ data: { type: "account_takeover", title: "t", severity: "high", lastAlertAt: new Date() } });
    const run = await db().playbookRun.create({ data: { incidentId: incident.id, playbookId: pb.id, version: 1, status: "running", leaseOwner: "other", leaseUntil: new Date(Date.now() + 60_000) } });
    await abandonRun(run.id, "timed out");
    expect(await db().playbookRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: "running", leaseOwner: "other" });
    await db().playbookRun.update({ where: { id: run.id }, data: { leaseUntil: new Date(Date.now() - 1000) } });
    await abandonRun(run.id, "timed out");
    expect(await db().playbookRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: "failed" });
  });

  it("a run whose incident was closed meanwhile stops, cancelled, before its next step", async () => {
    await playbook("Sign out", "account_takeover", [{ kind: "terminate_sessions", critical: true }]);
    const user = await makeUser();
    await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    await stopIncidentEngine(); // nothing runs the run but this test
    try {
      const incident = await reportedIncident(user.id);
      const run = await db().playbookRun.findFirstOrThrow({ where: { incidentId: incident.id } });
      const admin = await makeUser({ roles: ["admin"] });
      expect(await changeStatus(incident.id, { status: "false_positive", reason: "the user's new phone" }, admin, ctx)).toEqual({ ok: true });
      expect(await executeRun(run.id)).toEqual({ state: "finished" });
      expect(await db().playbookRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: "cancelled" });
      expect(await db().session.count({ where: { userId: user.id, endedAt: null } })).toBe(1);
      // Two analysts changing the status at once: one changes it.
      const changes = await Promise.all(["open", "investigating"].map((status) => changeStatus(incident.id, { status: status as "open", reason: "reopened" }, admin, ctx)));
      expect(changes.filter((change) => change.ok)).toHaveLength(1);
    } finally {
      await startIncidentEngine();
    }
  });

  it("a reused authorization code raises the same token-theft alert as a reused refresh token, about the grant's user", async () => {
    const user = await makeUser();
    await recordAuditEvent({
      type: "security", action: "oauth.authorization_code.reuse", outcome: "blocked", actor: { type: "client", id: "app", label: null }, client: { ip: "198.51.100.78" },
      resource: { type: "oauth_client", id: "app" }, metadata: { clientId: "app", grantRevoked: true, accountId: user.id },
    });
    await runDetection();
    const incident = await db().incident.findFirstOrThrow({ include: { alerts: true } });
    expect(incident.type).toBe("token_theft");
    expect(incident.alerts.map((a) => [a.summary, a.userId])).toEqual([["A spent authorization code of client app was presented again", user.id]]);
  });

  it("a failed critical step stops the run; a dry run changes nothing", async () => {
    const pb = await playbook("Escalate", "account_takeover", [
      { kind: "notify", critical: true, channel: "missing-channel" },
      { kind: "terminate_sessions", critical: false },
    ]);
    const user = await makeUser();
    await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    const incident = await reportedIncident(user.id);

    const dry = await dryRunPlaybook(pb.id, incident.id, ctx);
    expect(dry!.steps.map((s) => s.detail)).toEqual(['No notification channel named "missing-channel".', `Would end every session of ${user.email}.`]);

    const run = await finishedRun(incident.id);
    expect(run.status).toBe("failed");
    expect(run.attempts).toBe(3);
    expect(run.steps.map((s) => [s.kind, s.status])).toEqual([["notify", "failed"]]);
    expect(await db().session.count({ where: { userId: user.id, endedAt: null } })).toBe(1);

    // The channel is set up after all; an analyst runs it again: the failed step, then the rest.
    const receiver = await webhookReceiver();
    try {
      await createChannel({ kind: "webhook", name: "missing-channel", target: receiver.url }, ctx);
      const analyst = await makeUser({ roles: ["analyst"] });
      expect(await retryRun(run.id, crypto.randomUUID(), analyst, ctx)).toEqual({ ok: false, refusal: "not_retryable" });
      // Switched off by an admin since the run: its old steps are not run again by hand.
      const paused = await db().playbookVersion.create({ data: { playbookId: run.playbookId, version: run.version + 1, enabled: false, triggerType: "account_takeover", minSeverity: "low", steps: [], comment: "paused" } });
      expect(await retryRun(run.id, incident.id, analyst, ctx)).toEqual({ ok: false, refusal: "playbook_changed" });
      await db().playbookVersion.delete({ where: { playbookId_version: { playbookId: paused.playbookId, version: paused.version } } });
      // Made two hours ago: run again now, it is not a stuck run (SOC 2 CC7.4), nor one to sweep up.
      await db().playbookRun.update({ where: { id: run.id }, data: { createdAt: new Date(Date.now() - 2 * 3_600_000), queuedAt: new Date(Date.now() - 2 * 3_600_000) } });
      expect(await retryRun(run.id, incident.id, analyst, ctx)).toEqual({ ok: true });
      expect((await db().playbookRun.findUniqueOrThrow({ where: { id: run.id } })).queuedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(await countUnfinishedRuns(new Date(Date.now() - 3_600_000))).toBe(0);
      expect(await retryRun(run.id, incident.id, analyst, ctx)).toEqual({ ok: false, refusal: "not_retryable" });
      await expect.poll(async () => (await db().playbookRun.findUniqueOrThrow({ where: { id: run.id } })).status, { timeout: 20_000, interval: 200 }).toBe("succeeded");
      expect(receiver.deliveries).toHaveLength(1);
      expect(await db().session.count({ where: { userId: user.id, endedAt: null } })).toBe(0);
      expect(await db().auditEvent.count({ where: { action: "incident.playbook.retry" } })).toBe(1);
    } finally {
      await receiver.close();
    }
  });

  it("each step has attempts of its own: an earlier step's retries do not leave a later one a single try", async () => {
    const [first, second] = [await webhookReceiver({ failFirst: 2 }), await webhookReceiver({ failFirst: 1 })];
    try {
      await createChannel({ kind: "webhook", name: "first", target: first.url }, ctx);
      await createChannel({ kind: "webhook", name: "second", target: second.url }, ctx);
      await playbook("Tell two", "account_takeover", [{ kind: "notify", critical: false, channel: "first" }, { kind: "notify", critical: true, channel: "second" }]);
      const user = await makeUser();
      await reportSignIn(user.id);
      await runDetection();
      const run = await finishedRun((await db().incident.findFirstOrThrow()).id);
      expect(run.steps.map((s) => [s.kind, s.status])).toEqual([["notify", "ok"], ["notify", "ok"]]);
      expect(run.status).toBe("succeeded");
      expect([first.deliveries.length, second.deliveries.length]).toEqual([3, 2]);
      expect(run.attempts).toBe(4);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("a step that is not critical failing does not hold up containment, but the run ends failed (CC7.4 counts it) and running it again sends only that step", async () => {
    const since = new Date();
    // The SOC's receiver is down for the run's three attempts at the notification, then back.
    const receiver = await webhookReceiver({ failFirst: 3 });
    try {
      await createChannel({ kind: "webhook", name: "soc", target: receiver.url }, ctx);
      await playbook("Revoke, tell, sign out", "account_takeover", [
        { kind: "revoke_tokens", critical: true },
        { kind: "notify", critical: false, channel: "soc" },
        { kind: "terminate_sessions", critical: true },
      ]);
      const user = await makeUser();
      await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
      await db().oidcModel.create({ data: { kind: "Grant", id: "g1", payload: { accountId: user.id, clientId: "app" }, accountId: user.id, clientId: "app" } });
      const incident = await reportedIncident(user.id);

      const run = await finishedRun(incident.id);
      expect(run.status).toBe("failed");
      expect(run.steps.map((s) => [s.kind, s.status])).toEqual([["revoke_tokens", "ok"], ["notify", "failed"], ["terminate_sessions", "ok"]]);
      // Containment happened all the same.
      expect(await db().oidcModel.count({ where: { accountId: user.id } })).toBe(0);
      expect(await db().session.count({ where: { userId: user.id, endedAt: null } })).toBe(0);
      expect(receiver.deliveries).toHaveLength(3);
      const finished = await db().auditEvent.findMany({ where: { action: "incident.playbook.finish" } });
      expect(finished).toEqual([expect.objectContaining({ outcome: "failure", metadata: expect.objectContaining({ status: "failed", detail: expect.stringMatching(/^Step 2 \(Notify a channel .*\) failed; the other steps were done\.$/) }) })]);
      expect(await countFailedRuns(since)).toBe(1);

      // An analyst runs it again once the receiver is back: the notification is sent; nothing is revoked or ended twice.
      const analyst = await makeUser({ roles: ["analyst"] });
      expect(await retryRun(run.id, incident.id, analyst, userContext(analyst, null))).toEqual({ ok: true });
      expect(await db().auditEvent.findFirst({ where: { action: "incident.playbook.retry" } })).toMatchObject({ metadata: expect.objectContaining({ steps: ["notify"] }) });
      await expect.poll(async () => (await db().playbookRun.findUniqueOrThrow({ where: { id: run.id } })).status, { timeout: 20_000, interval: 200 }).toBe("succeeded");
      const after = await db().playbookStepResult.findMany({ where: { runId: run.id }, orderBy: { index: "asc" } });
      expect([after[0], after[2]]).toEqual([run.steps[0], run.steps[2]]);
      expect(after[1]).toMatchObject({ kind: "notify", status: "ok" });
      expect(receiver.deliveries).toHaveLength(4);
      const stepEvents = await db().auditEvent.findMany({ where: { action: "incident.playbook.step" } });
      expect(stepEvents.map((e) => (e.metadata as { kind: string }).kind).sort()).toEqual(["notify", "notify", "revoke_tokens", "terminate_sessions"]);
      // The failure stays on the record (SOC 2 CC7.4) though the run succeeded in the end.
      expect(await countFailedRuns(since)).toBe(1);
    } finally {
      await receiver.close();
    }
  });

  it("an escalation whose notification fails is retried after its delay, without assigning again; a person's escalation acknowledges", async () => {
    const receiver = await webhookReceiver({ failFirst: 1 });
    const oncall = await makeUser({ roles: ["analyst"] });
    await stopIncidentEngine(); // this test runs the run itself
    try {
      await createChannel({ kind: "webhook", name: "pager", target: receiver.url }, ctx);
      await playbook("Page on-call", "account_takeover", [{ kind: "escalate", critical: true, assignee: oncall.email, channel: "pager" }]);
      const user = await makeUser();
      const incident = await reportedIncident(user.id);
      const run = await db().playbookRun.findFirstOrThrow({ where: { incidentId: incident.id } });
      // The webhook fails: a retry, the run held until its delay is over (the stalled-run sweep leaves it).
      await expect(executeRun(run.id)).rejects.toThrow(/failed/);
      expect((await db().playbookRun.findUniqueOrThrow({ where: { id: run.id } })).leaseUntil!.getTime()).toBeGreaterThan(Date.now());
      await db().playbookRun.update({ where: { id: run.id }, data: { queuedAt: new Date(Date.now() - 120_000) } });
      expect(await requeueStalledRuns()).toBe(0);
      // Meanwhile a person takes the incident over; the retry does not take it back.
      const analyst = await makeUser({ roles: ["analyst"] });
      await db().incident.update({ where: { id: incident.id }, data: { assigneeId: analyst.id } });
      await db().playbookRun.update({ where: { id: run.id }, data: { leaseUntil: null } });
      expect(await executeRun(run.id)).toEqual({ state: "finished" });
      expect(await db().playbookRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: "succeeded" });
      expect(receiver.deliveries).toHaveLength(2);
      const after = await db().incident.findUniqueOrThrow({ where: { id: incident.id } });
      expect(after.assigneeId).toBe(analyst.id);
      expect(await db().incidentEvent.count({ where: { incidentId: incident.id, kind: "assignment" } })).toBe(1);
      expect(await db().auditEvent.count({ where: { action: "incident.assign" } })).toBe(1);
      // A playbook's escalation is no acknowledgement; an analyst's is.
      expect(after.acknowledgedAt).toBeNull();
      const answer = await runResponseAction(incident.id, responseActionSchema.parse({ step: { kind: "escalate", assignee: oncall.email }, reason: "needs on-call" }), analyst, userContext(analyst, null));
      expect(answer).toMatchObject({ status: "ok" });
      expect((await db().incident.findUniqueOrThrow({ where: { id: incident.id } })).acknowledgedAt).not.toBeNull();
    } finally {
      await receiver.close();
      await startIncidentEngine();
    }
  });

  it("a dry run acts on whom a real run would: the user and address of the incident's latest alert", async () => {
    await stopIncidentEngine();
    try {
      const pb = await playbook("Sign out", "account_takeover", [{ kind: "terminate_sessions", critical: true }]);
      const [first, second] = [await makeUser(), await makeUser()];
      await reportSignIn(first.id);
      await runDetection();
      const incident = await db().incident.findFirstOrThrow({ include: { alerts: true } });
      // A later alert about another user joined the incident.
      const earlier = incident.alerts[0]!;
      await db().alert.create({ data: { rule: earlier.rule, severity: earlier.severity, summary: "another report", sourceSeq: earlier.sourceSeq + BigInt(1000), lastSeq: earlier.sourceSeq + BigInt(1000), userId: second.id, details: {}, incidentId: incident.id, createdAt: new Date(earlier.createdAt.getTime() + 60_000) } });
      await db().incidentIndicator.create({ data: { incidentId: incident.id, kind: "user", value: second.id } });
      const dry = await dryRunPlaybook(pb.id, incident.id, ctx);
      expect(dry!.steps.map((s) => s.detail)).toEqual([`Would end every session of ${second.email}.`]);
    } finally {
      await startIncidentEngine();
    }
  });

  it("a webhook receiver on loopback gets a correctly signed notification", async () => {
    const receiver = await webhookReceiver();
    try {
      const { secret } = await createChannel({ kind: "webhook", name: "soc", target: receiver.url }, ctx);
      const stored = await db().notificationChannel.findUniqueOrThrow({ where: { name: "soc" } });
      expect(stored.secretCipher).not.toContain(secret!);
      await playbook("Tell the SOC", "account_takeover", [{ kind: "notify", critical: true, channel: "soc" }]);
      const user = await makeUser();
      const incident = await reportedIncident(user.id);
      expect((await finishedRun(incident.id)).status).toBe("succeeded");
      expect(receiver.deliveries).toHaveLength(1);
      const [delivery] = receiver.deliveries;
      expect(verifySignature(secret!, delivery!.body, delivery!.signature)).toBe(true);
      expect(verifySignature("whsec_wrong", delivery!.body, delivery!.signature)).toBe(false);
      expect(JSON.parse(delivery!.body)).toMatchObject({ incident: { number: incident.number, severity: "high" }, users: [user.email] });
    } finally {
      await receiver.close();
    }
  });

  it("a channel can be tested before an incident needs it: sent and signed, or the reason it fails, audited either way", async () => {
    const receiver = await webhookReceiver();
    try {
      const { secret } = await createChannel({ kind: "webhook", name: "pager", target: receiver.url }, ctx);
      expect(await testChannel("pager", ctx)).toEqual({ ok: true, detail: "webhook pager answered 204" });
      expect(receiver.deliveries).toHaveLength(1);
      expect(verifySignature(secret!, receiver.deliveries[0]!.body, receiver.deliveries[0]!.signature)).toBe(true);
      expect(JSON.parse(receiver.deliveries[0]!.body)).toMatchObject({ test: true });
      await createChannel({ kind: "webhook", name: "internal", target: "https://10.0.0.5:8443/hook" }, ctx);
      expect(await testChannel("internal", ctx)).toMatchObject({ ok: false, detail: expect.stringContaining("10.0.0.5 is a private address") });
      expect((await db().auditEvent.findMany({ where: { action: "incident.channel.test" }, orderBy: { seq: "asc" } })).map((e) => e.outcome)).toEqual(["success", "failure"]);
      expect(await testChannel("gone", ctx)).toBeNull();
    } finally {
      await receiver.close();
    }
  });

  it("a webhook's path and query (often its token) are neither listed nor audited; one name saved twice at once is refused once", async () => {
    const hook = "https://hooks.example.com/services/T000/B000/XXXXSECRETXXXX?token=abc";
    await createChannel({ kind: "webhook", name: "chat", target: hook }, ctx);
    await createChannel({ kind: "webhook", name: "bare", target: "https://pager.example.com" }, ctx);
    expect((await listChannels()).map((c) => [c.name, c.target])).toEqual([["bare", "https://pager.example.com"], ["chat", "https://hooks.example.com/…"]]);
    const events = await db().auditEvent.findMany({ where: { action: "incident.channel.create" } });
    expect(JSON.stringify(events.map((e) => e.metadata))).not.toContain("SECRET");
    const twice = await Promise.allSettled([1, 2].map(() => createChannel({ kind: "email", name: "oncall", target: "oncall@example.test" }, ctx)));
    expect(twice.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((twice.find((r) => r.status === "rejected") as PromiseRejectedResult).reason).toBeInstanceOf(ChannelNameTakenError);
  });

  it("a webhook to an internal address is not sent: the refusal is on the timeline, in the audit trail and on the channel", async () => {
    // Saved before destinations were checked (the form refuses it now).
    await createChannel({ kind: "webhook", name: "metadata", target: "https://10.0.0.5:8443/hook" }, ctx);
    expect(await listChannels()).toMatchObject([{ name: "metadata", refusal: "10.0.0.5 is a private address" }]);
    const user = await makeUser();
    const incident = await reportedIncident(user.id);
    const analyst = await makeUser({ roles: ["analyst"] });

    const result = await runResponseAction(incident.id, responseActionSchema.parse({ step: { kind: "notify", channel: "metadata" }, reason: "tell the SOC" }), analyst, userContext(analyst, null));
    const reason = "webhook metadata not sent: 10.0.0.5 is a private address. Webhooks go to public addresses only; list an internal receiver in GATEHOUSE_WEBHOOK_ALLOWED_HOSTS.";
    expect(result).toEqual({ status: "failed", detail: reason });
    expect(await db().incidentEvent.findFirst({ where: { incidentId: incident.id, kind: "action" } })).toMatchObject({ text: expect.stringContaining(reason) });
    expect(await db().auditEvent.findFirst({ where: { action: "incident.action" } })).toMatchObject({ outcome: "failure", metadata: expect.objectContaining({ kind: "notify", detail: reason }) });
  });

  it("the built-in admins channel can be tested too: every active admin gets the mail", async () => {
    const smtp = await startSmtpSink();
    process.env.GATEHOUSE_SMTP_URL = smtp.url;
    try {
      const admins = [await makeUser({ roles: ["admin"] }), await makeUser({ roles: ["admin"] })];
      await makeUser({ roles: ["analyst"] });
      expect(await testChannel(ADMINS_CHANNEL, ctx)).toMatchObject({ ok: true });
      expect(smtp.mails).toHaveLength(1);
      for (const admin of admins) expect(smtp.mails[0]).toContain(admin.email);
      expect(smtp.mails[0]).toContain("Test notification for channel admins");
      expect(await db().auditEvent.findFirst({ where: { action: "incident.channel.test" } })).toMatchObject({ outcome: "success", resourceId: ADMINS_CHANNEL });
    } finally {
      delete process.env.GATEHOUSE_SMTP_URL;
      await smtp.close();
    }
  });

  it("an escalation assigns the incident and emails the person over SMTP", async () => {
    const smtp = await startSmtpSink();
    const { mails } = smtp;
    process.env.GATEHOUSE_SMTP_URL = smtp.url;
    try {
      const oncall = await makeUser({ roles: ["analyst"] });
      await createChannel({ kind: "email", name: "oncall-mail", target: oncall.email }, ctx);
      await playbook("Page on-call", "account_takeover", [{ kind: "escalate", critical: true, assignee: oncall.email, channel: "oncall-mail" }]);
      const user = await makeUser();
      const incident = await reportedIncident(user.id);
      expect((await finishedRun(incident.id)).status).toBe("succeeded");
      expect((await db().incident.findFirstOrThrow()).assigneeId).toBe(oncall.id);
      expect(mails).toHaveLength(1);
      expect(mails[0]).toContain(`To: ${oncall.email}`);
      expect(mails[0]).toContain(`INC-${incident.number}`);
    } finally {
      delete process.env.GATEHOUSE_SMTP_URL;
      await smtp.close();
    }
  });

  it("the built-in playbooks tell every active admin by email first, and say so when email is not set up", async () => {
    await ensureDefaultPlaybooks(ctx);
    const [admin, other] = [await makeUser({ roles: ["admin"] }), await makeUser({ roles: ["admin"] })];
    await setDisabled(other.id, true, ctx);
    // Without email: the step is skipped, saying why, and the response goes on.
    const first = await reportedIncident((await makeUser()).id);
    const unmailed = await finishedRun(first.id);
    expect(unmailed.status).toBe("succeeded");
    // Containment first, then the admins: without email that step is skipped, saying why.
    expect(unmailed.steps.map((step) => step.status)).toEqual(["ok", "ok", "skipped"]);
    expect(unmailed.steps[2]).toMatchObject({ kind: "notify", detail: "Email is not set up (GATEHOUSE_SMTP_URL): the admins were not mailed." });

    const smtp = await startSmtpSink();
    process.env.GATEHOUSE_SMTP_URL = smtp.url;
    try {
      await db().incident.updateMany({ data: { status: "resolved", resolvedAt: new Date() } });
      const second = await reportedIncident((await makeUser()).id).then(() => db().incident.findFirstOrThrow({ where: { status: "open" } }));
      const mailed = await finishedRun(second.id);
      expect(mailed.steps[2]).toMatchObject({ kind: "notify", status: "ok" });
      // (The other mail is the user's own notice of the new password the response requires.)
      const told = smtp.mails.filter((mail) => mail.includes(`INC-${second.number}`));
      expect(told).toHaveLength(1);
      expect(told[0]).toContain(`To: ${admin.email}`);
      expect(told[0]).not.toContain(other.email);
    } finally {
      delete process.env.GATEHOUSE_SMTP_URL;
      await smtp.close();
    }
    // Nobody can make a channel of their own under the built-in's name; one saved before keeps its place.
    expect(newChannelSchema.safeParse({ kind: "email", name: "Admins", target: "me@example.test" }).error?.issues[0]?.message).toMatch(/is built in/);
    const saved = await db().notificationChannel.create({ data: { name: "admins", kind: "email", target: "soc@example.test" } });
    expect(await resolveChannel("admins")).toEqual({ id: saved.id, name: "admins", kind: "email", to: "soc@example.test" });
  });

  it("a worker killed in the middle of a run: another finishes it, each step exactly once", async () => {
    await stopIncidentEngine();
    const receiver = await webhookReceiver({ hangFirst: true });
    let worker: ChildProcess | undefined;
    try {
      const { secret } = await createChannel({ kind: "webhook", name: "pager", target: receiver.url }, ctx);
      await playbook("Three steps", "account_takeover", [
        { kind: "terminate_sessions", critical: true },
        { kind: "notify", critical: true, channel: "pager" },
        { kind: "lock_accounts", critical: false, minutes: 30 },
      ]);
      const user = await makeUser();
      await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
      await reportSignIn(user.id);

      // A separate worker process detects the report and runs the playbook; it is killed while step 2 waits on the receiver.
      worker = spawn("npx", ["tsx", "--conditions=react-server", "scripts/incident-worker.ts"], {
        env: { ...process.env, GATEHOUSE_DETECTION_INTERVAL_MS: "200" }, stdio: "ignore", detached: true,
      });
      await receiver.firstArrived;
      process.kill(-worker.pid!, "SIGKILL");
      const incident = await db().incident.findFirstOrThrow();
      expect((await db().playbookRun.findFirstOrThrow()).status).toBe("running");

      await startIncidentEngine();
      const run = await finishedRun(incident.id);
      expect(run.status).toBe("succeeded");
      expect(run.steps.map((s) => [s.index, s.kind, s.status])).toEqual([[0, "terminate_sessions", "ok"], [1, "notify", "ok"], [2, "lock_accounts", "ok"]]);
      const stepEvents = await db().auditEvent.findMany({ where: { action: "incident.playbook.step" } });
      expect(stepEvents).toHaveLength(3);
      expect(await db().auditEvent.count({ where: { action: "incident.playbook.finish" } })).toBe(1);
      expect(await db().auditEvent.count({ where: { action: "session.revoke_all", resourceId: user.id } })).toBe(1);
      expect(await db().auditEvent.findFirst({ where: { action: "account.lockout", resourceId: user.id } })).toMatchObject({ metadata: expect.objectContaining({ incident: `INC-${incident.number}` }) });
      // The notification was sent twice (the first answer never came): same delivery id, so the receiver can drop the repeat.
      expect(receiver.deliveries.map((d) => d.deliveryId)).toEqual([expect.stringContaining(":1"), receiver.deliveries[0]!.deliveryId]);
      expect(verifySignature(secret!, receiver.deliveries[1]!.body, receiver.deliveries[1]!.signature)).toBe(true);
    } finally {
      if (worker?.pid && worker.exitCode === null) {
        try {
          process.kill(-worker.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await receiver.close();
    }
  }, 90_000);
});

describe("analysts", () => {
  it("a one-click response needs a valid step and a reason, and is audited", async () => {
    const user = await makeUser();
    await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    const incident = await reportedIncident(user.id);
    expect(responseActionSchema.safeParse({ step: { kind: "format_disk" }, reason: "because" }).success).toBe(false);
    expect(responseActionSchema.safeParse({ step: { kind: "terminate_sessions" }, reason: "" }).success).toBe(false);
    const analyst = await makeUser({ roles: ["analyst"] });
    const result = await runResponseAction(incident.id, responseActionSchema.parse({ step: { kind: "terminate_sessions" }, reason: "user confirmed by phone" }), analyst, userContext(analyst, null));
    expect(result).toMatchObject({ status: "ok" });
    expect(await db().session.count({ where: { userId: user.id, endedAt: null } })).toBe(0);
    expect(await db().auditEvent.findFirst({ where: { action: "incident.action" } })).toMatchObject({ actorId: analyst.id, metadata: expect.objectContaining({ reason: "user confirmed by phone" }) });
  });

  it("an analyst's one-click response reaches no admin on the incident; an admin's does", async () => {
    const [user, admin, analyst, otherAdmin] = [await makeUser(), await makeUser({ roles: ["admin"] }), await makeUser({ roles: ["analyst"] }), await makeUser({ roles: ["admin"] })];
    const incident = await db().incident.create({
      data: { type: "account_takeover", title: "t", severity: "high", lastAlertAt: new Date(), indicators: { create: [{ kind: "user", value: user.id }, { kind: "user", value: admin.id }] } },
    });
    const reset = responseActionSchema.parse({ step: { kind: "require_mfa_reenrollment" }, reason: "suspected takeover" });
    await enrollTotp(admin);
    const byAnalyst = await runResponseAction(incident.id, reset, analyst, userContext(analyst, null));
    expect(byAnalyst).toMatchObject({ status: "failed", detail: expect.stringContaining(`Not applied to ${admin.email}: only an admin can act on accounts with roles or console access you lack.`) });
    expect(await db().totpFactor.count({ where: { userId: admin.id } })).toBe(1);
    expect(await db().auditEvent.count({ where: { action: "incident.require_mfa_reenrollment", outcome: "blocked", resourceId: admin.id } })).toBe(1);
    // Only the admin on the incident: nothing at all is done.
    await db().incidentIndicator.deleteMany({ where: { incidentId: incident.id, value: user.id } });
    expect(await runResponseAction(incident.id, reset, analyst, userContext(analyst, null))).toMatchObject({ status: "failed", detail: expect.stringMatching(/^Nothing done\. Not applied to /) });
    expect(await runResponseAction(incident.id, reset, otherAdmin, userContext(otherAdmin, null))).toMatchObject({ status: "ok" });
    expect(await db().totpFactor.count({ where: { userId: admin.id } })).toBe(0);
  });

  it("blocking an incident's networks skips one that covers the responder's own address, blocks the rest, and says so", async () => {
    const incident = await db().incident.create({
      data: { type: "credential_stuffing", title: "t", severity: "high", lastAlertAt: new Date(), indicators: { create: [{ kind: "ip", value: "203.0.113.7" }, { kind: "ip", value: "198.51.100.20" }] } },
    });
    const analyst = await makeUser({ roles: ["analyst"] });
    const fromTheOffice = { ...userContext(analyst, null), client: { ip: "203.0.113.50", userAgent: "vitest" } };
    const result = await runResponseAction(incident.id, responseActionSchema.parse({ step: { kind: "block_ip", scope: "network", hours: 1 }, reason: "stuffing from two networks" }), analyst, fromTheOffice);
    expect(result).toMatchObject({ status: "failed", detail: expect.stringMatching(/^Blocked 198\.51\.100\.0\/24 for 1 h\. Not blocked: 203\.0\.113\.0\/24: This would block your own address/) });
    expect((await db().ipRule.findMany()).map((r) => r.cidr)).toEqual(["198.51.100.0/24"]);
    expect(await db().auditEvent.findFirst({ where: { action: "incident.action" } })).toMatchObject({ outcome: "failure" });
    expect(await db().incidentEvent.count({ where: { incidentId: incident.id, kind: "action" } })).toBe(1);
  });

  it("blocking an address already blocked for a shorter time blocks it for the longer one; for as long already, it is left", async () => {
    const incident = await db().incident.create({
      data: { type: "credential_stuffing", title: "t", severity: "high", lastAlertAt: new Date(), indicators: { create: [{ kind: "ip", value: "198.51.100.77" }] } },
    });
    const analyst = await makeUser({ roles: ["analyst"] });
    await db().ipRule.create({ data: { cidr: "198.51.100.77/32", kind: "block", note: "earlier", expiresAt: new Date(Date.now() + 3_600_000) } });
    const block = responseActionSchema.parse({ step: { kind: "block_ip", scope: "ip", hours: 24 }, reason: "still at it" });
    expect(await runResponseAction(incident.id, block, analyst, userContext(analyst, null))).toMatchObject({ status: "ok", detail: "Blocked 198.51.100.77/32 for 24 h." });
    expect(await runResponseAction(incident.id, block, analyst, userContext(analyst, null))).toMatchObject({ status: "ok", detail: "Already blocked: 198.51.100.77/32." });
    const longest = Math.max(...(await db().ipRule.findMany({ where: { cidr: "198.51.100.77/32" } })).map((r) => r.expiresAt!.getTime()));
    expect(longest).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  });

  it("closing an incident is refused to a user it is about and to an analyst who could not act on its users (audited); others close it", async () => {
    const [admin, otherAdmin, analyst, user] = [await makeUser({ roles: ["admin"] }), await makeUser({ roles: ["admin"] }), await makeUser({ roles: ["analyst"] }), await makeUser()];
    const about = (...users: { id: string }[]) => db().incident.create({
      data: { type: "privilege_escalation", title: "Role granted at night", severity: "high", lastAlertAt: new Date(), indicators: { create: users.map((u) => ({ kind: "user", value: u.id })) } },
    });
    const adminIncident = await about(admin, user);
    const falsePositive = { status: "false_positive" as const, reason: "it was me, working late" };

    // Even an admin does not close an incident about themselves.
    expect(await changeStatus(adminIncident.id, falsePositive, admin, userContext(admin, null))).toEqual({ ok: false, refusal: "closer_is_subject" });
    expect(await db().auditEvent.findFirst({ where: { action: "incident.status", outcome: "blocked", actorId: admin.id } })).toMatchObject({ resourceId: adminIncident.id, metadata: expect.objectContaining({ reason: "closer_is_subject", to: "false_positive" }) });
    // An analyst cannot act on the admin's account, so cannot cancel the response to it either.
    expect(await changeStatus(adminIncident.id, { status: "resolved", reason: "nothing to see" }, analyst, userContext(analyst, null))).toEqual({ ok: false, refusal: "subjects_beyond_you", users: [admin.email] });
    expect(await db().auditEvent.findFirst({ where: { action: "incident.status", outcome: "blocked", actorId: analyst.id } })).toMatchObject({ resourceId: admin.id, metadata: expect.objectContaining({ reason: "target_holds_roles_actor_lacks" }) });
    expect(await db().incident.findUniqueOrThrow({ where: { id: adminIncident.id } })).toMatchObject({ status: "open", resolvedAt: null });
    expect(await db().incidentEvent.count({ where: { incidentId: adminIncident.id, kind: "status" } })).toBe(0);

    // Taking it up is not closing it: the analyst may. Another admin closes it.
    expect(await changeStatus(adminIncident.id, { status: "investigating", reason: "looking into it" }, analyst, userContext(analyst, null))).toEqual({ ok: true });
    expect(await changeStatus(adminIncident.id, falsePositive, otherAdmin, userContext(otherAdmin, null))).toEqual({ ok: true });
    expect(await db().incident.findUniqueOrThrow({ where: { id: adminIncident.id } })).toMatchObject({ status: "false_positive", resolvedAt: expect.any(Date) });
    // The analyst closes an incident about an ordinary account.
    const userIncident = await about(user);
    expect(await changeStatus(userIncident.id, { status: "resolved", reason: "user confirmed it was them" }, analyst, userContext(analyst, null))).toEqual({ ok: true });
    expect(await db().auditEvent.count({ where: { action: "incident.status", outcome: "success", resourceId: userIncident.id, actorId: analyst.id } })).toBe(1);
  });

  it("CC7.3: critical incidents taken up or contained late are reported by their history, not only while still open", async () => {
    const now = new Date();
    const [HOUR, DAY] = [3_600_000, 86_400_000];
    const ago = (ms: number) => new Date(now.getTime() - ms);
    const moved = (at: Date, from: string, to: string) => ({ kind: "status", at, text: `Status ${from} → ${to}: reason`, data: { from, to } });
    const critical = (title: string, createdAt: Date, acknowledgedAt: Date, status: string, timeline: { kind: string; at: Date; text: string; data: object }[] = []) =>
      db().incident.create({ data: { type: "account_takeover", severity: "critical", title, createdAt, acknowledgedAt, status, lastAlertAt: createdAt, timeline: { create: timeline } } });
    // What lib/compliance's CC7.3 check asks: taken up within 4 hours, contained within 3 days.
    const overdue = () => listOverdueCriticalIncidents(now, { takeUpMs: 4 * HOUR, containMs: 3 * DAY });

    const takenUpLate = await critical("taken up after 9 hours", ago(10 * HOUR), ago(HOUR), "investigating", [moved(ago(HOUR), "open", "investigating")]);
    await critical("in time", ago(5 * DAY), ago(5 * DAY - 3 * HOUR), "resolved", [moved(ago(5 * DAY - 3 * HOUR), "open", "investigating"), moved(ago(3 * DAY), "investigating", "contained"), moved(ago(DAY), "contained", "resolved")]);
    // Contained on day 5, recorded before status changes kept the move as data.
    const containedLate = await critical("contained on day 5", ago(6 * DAY), ago(6 * DAY - HOUR), "contained", [{ kind: "status", at: ago(DAY), text: "Status investigating → contained: done", data: {} }]);
    // Taken up late, but its containment deadline passed more than a week ago: reviewed already.
    await critical("long ago", ago(11 * DAY), ago(10 * DAY), "resolved", [moved(ago(10 * DAY), "open", "resolved")]);

    expect((await overdue()).map((i) => [i.title, i.overdue])).toEqual([["contained on day 5", "containment"], ["taken up after 9 hours", "take_up"]]);
    expect((await overdue()).find((i) => i.id === containedLate.id)).toMatchObject({ acknowledgedAt: containedLate.acknowledgedAt, containedAt: ago(DAY) });

    // Contained through the console on day 4: late, by when it was contained.
    const admin = await makeUser({ roles: ["admin"] });
    const dayFour = await critical("contained on day 4", ago(4 * DAY), ago(4 * DAY - HOUR), "investigating");
    expect(await changeStatus(dayFour.id, { status: "contained", reason: "accounts locked" }, admin, userContext(admin, null))).toEqual({ ok: true });
    expect((await overdue()).map((i) => [i.id, i.overdue])).toEqual([[containedLate.id, "containment"], [dayFour.id, "containment"], [takenUpLate.id, "take_up"]]);
  });

  it("response times: mean minutes to acknowledge and to resolve, per day and overall", async () => {
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);
    const opened = { type: "account_takeover", title: "t", severity: "high", lastAlertAt: new Date() };
    await db().incident.create({ data: { ...opened, createdAt: at(120), acknowledgedAt: at(110), resolvedAt: at(60) } });
    await db().incident.create({ data: { ...opened, createdAt: at(100), acknowledgedAt: at(70) } });
    await db().incident.create({ data: { ...opened, createdAt: at(50) } });
    const times = await responseTimes(30);
    expect(times).toMatchObject({ mttaMinutes: 20, mttrMinutes: 60 });
    expect(times.points.reduce((sum, p) => sum + p.opened, 0)).toBe(3);
    // Every day of the period is there (the first one partly), quiet ones without response times.
    expect(times.points).toHaveLength(31);
    expect(times.points[0]).toMatchObject({ opened: 0, mttaMinutes: null, mttrMinutes: null });
  });

  it("two saves of a playbook at once make two versions; two new playbooks with one name, one playbook", async () => {
    const pb = await playbook("Sign out", "account_takeover", [{ kind: "terminate_sessions", critical: true }]);
    const edit = { name: "Sign out", enabled: true, triggerType: "account_takeover" as const, minSeverity: "low" as const, steps: [{ kind: "revoke_tokens" as const, critical: true }], comment: "both" };
    const saved = await Promise.all([savePlaybook(pb.id, edit, ctx), savePlaybook(pb.id, edit, ctx)]);
    expect(saved.map((p) => p!.version).sort()).toEqual([2, 3]);
    const created = await Promise.allSettled([1, 2].map(() => savePlaybook(null, { ...edit, name: "Twice" }, ctx)));
    expect(created.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(created.find((r) => r.status === "rejected")).toMatchObject({ reason: expect.any(PlaybookNameTakenError) });
  });

  it("playbook steps typed as JSON get errors that point at the step", () => {
    expect(parseSteps("[{")).toMatchObject({ ok: false, error: expect.stringMatching(/not valid JSON/) });
    expect(parseSteps('[{"kind":"terminate_sessions"},{"kind":"block_ip","hours":0}]')).toMatchObject({ ok: false, error: expect.stringMatching(/^step 2 \(hours\)/) });
    expect(parseSteps('[{"kind":"revoke_tokens","critical":true}]')).toEqual({ ok: true, steps: [{ kind: "revoke_tokens", critical: true }] });
  });

  it("an analyst handles incidents but cannot edit policies, unless a policy allows it", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const analyst = await makeUser({ roles: ["analyst"] });
    const subject: ConsoleSubject = { userId: analyst.id, email: analyst.email, roles: analyst.roles, groups: [], ip: "198.51.100.1", risk: 0, authStrength: "mfa", mfaFresh: true, deviceTrusted: false };
    expect(await consoleAllows(subject, "incidents", "manage")).toBe(true);
    expect(await consoleAllows(subject, "policies", "manage")).toBe(false);
    const adminSubject = { ...subject, userId: admin.id, email: admin.email, roles: admin.roles };
    const grant = `${DEFAULT_POLICIES}\n@id("analysts-edit-policies")\npermit (principal in Gatehouse::Role::"analyst", action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"], resource == Gatehouse::Console::"policies");\n`;
    expect((await publishPolicies(grant, "analysts on call edit policies", adminSubject, listActiveAdmins, userContext(admin, null))).ok).toBe(true);
    expect(await consoleAllows(subject, "policies", "manage")).toBe(true);
  });
});

type Delivery = { body: string; signature: string; deliveryId: string };

async function webhookReceiver(options: { hangFirst?: boolean; failFirst?: number } = {}) {
  const deliveries: Delivery[] = [];
  let arrived: () => void = () => {};
  const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      deliveries.push({ body, signature: String(req.headers["gatehouse-signature"]), deliveryId: String(req.headers["gatehouse-delivery"]) });
      arrived();
      if (options.hangFirst && deliveries.length === 1) hanging.push(res);
      else res.writeHead(deliveries.length <= (options.failFirst ?? 0) ? 503 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    deliveries,
    firstArrived,
    close: () => new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** What a receiver does: recompute the HMAC over "<t>.<body>" and compare in constant time. */
function verifySignature(secret: string, body: string, header: string): boolean {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=") as [string, string]));
  if (!parts.t || !parts.v1 || Math.abs(Date.now() / 1000 - Number(parts.t)) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
