import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { userContext } from "@/lib/audit/context";
import { findPrincipalByEmail, listActiveAdmins } from "@/lib/auth/users";
import {
  authorize, consoleAllows, consoleRequest, DEFAULT_POLICIES, listPolicyVersions, policyEditorState, policySetInForce,
  publishPolicies, rollbackPolicies, saveDraft, simulate, simulationSchema, type ConsoleSubject,
} from "@/lib/policy";
import { resetDatabase } from "../support/db";
import { makeUser } from "../support/factories";

beforeEach(resetDatabase);

async function adminSubject(): Promise<{ subject: ConsoleSubject; ctx: ReturnType<typeof userContext> }> {
  const admin = await makeUser({ roles: ["admin"] });
  return {
    subject: { userId: admin.id, email: admin.email, roles: admin.roles, groups: [], ip: "198.51.100.1", risk: 0, authStrength: "mfa", mfaFresh: true, deviceTrusted: false },
    ctx: userContext(admin, null),
  };
}

const ANALYSTS_READ_AUDIT = `\n@id("analysts-read-audit")\npermit (principal in Gatehouse::Role::"analyst", action == Gatehouse::Action::"view", resource == Gatehouse::Console::"audit");\n`;

describe("policy store", () => {
  it("publishes a new version that takes effect at once, and rolls back", async () => {
    const { subject, ctx } = await adminSubject();
    const analyst = { ...subject, userId: "a1", email: "an@example.test", roles: ["analyst"] };
    expect(await consoleAllows(analyst, "audit", "view")).toBe(false);

    const published = await publishPolicies(DEFAULT_POLICIES + ANALYSTS_READ_AUDIT, "analysts read the audit trail", subject, listActiveAdmins, ctx);
    expect(published).toEqual({ ok: true, version: 1 });
    expect(await consoleAllows(analyst, "audit", "view")).toBe(true);
    expect((await authorize(consoleRequest(analyst, "audit", "view"))).policies).toEqual(["analysts-read-audit"]);

    expect(await rollbackPolicies(0, "undo", subject, listActiveAdmins, ctx)).toEqual({ ok: true, version: 2 });
    expect(await consoleAllows(analyst, "audit", "view")).toBe(false);
    const history = await listPolicyVersions();
    expect(history.map((v) => [v.version, v.restoredFrom])).toEqual([[2, 0], [1, null]]);
    expect(history[1]!.diff).toContain('+@id("analysts-read-audit")');
    const events = await db().auditEvent.findMany({ where: { type: "policy" }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.action, e.outcome])).toEqual([["policy.publish", "success"], ["policy.rollback", "success"]]);
    expect(events[0]!.metadata).toMatchObject({ version: 1, comment: "analysts read the audit trail" });
  });

  it("a forbid overrides every permit", async () => {
    const { subject, ctx } = await adminSubject();
    const text = `${DEFAULT_POLICIES}\n@id("keys-frozen")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"keys");\n`;
    expect((await publishPolicies(text, "freeze key rotation", subject, listActiveAdmins, ctx)).ok).toBe(true);
    const decision = await authorize(consoleRequest(subject, "keys", "manage"));
    expect(decision).toMatchObject({ decision: "deny", policies: ["keys-frozen"] });
    expect(await consoleAllows(subject, "keys", "view")).toBe(true);
  });

  it("refuses to publish what does not validate, and keeps the version in force", async () => {
    const { subject, ctx } = await adminSubject();
    const result = await publishPolicies(`${DEFAULT_POLICIES}\n@id("typo")\npermit (principal, action, resource) when { context.riskk > 1 };`, "typo", subject, listActiveAdmins, ctx);
    expect(result).toMatchObject({ ok: false, errors: [expect.objectContaining({ policyId: "typo", help: "did you mean `risk`?" })] });
    expect((await policySetInForce()).version).toBe(0);
  });

  it("the lockout guard refuses a set that leaves no admin able to manage policies", async () => {
    const { subject, ctx } = await adminSubject();
    const lockout = `${DEFAULT_POLICIES}\n@id("nobody-edits")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies");\n`;
    const result = await publishPolicies(lockout, "oops", subject, listActiveAdmins, ctx);
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/no admin could manage the policies/) });
    expect((await policySetInForce()).version).toBe(0);
    expect(await db().auditEvent.count({ where: { action: "policy.publish", outcome: "blocked" } })).toBe(1);

    // A time window still leaves the admins a way back: it publishes.
    const officeHours = `${DEFAULT_POLICIES}\n@id("office-hours")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies") unless { context.hourUtc >= 8 && context.hourUtc < 20 };\n`;
    expect((await publishPolicies(officeHours, "edits in office hours", subject, listActiveAdmins, ctx)).ok).toBe(true);
    expect(await consoleAllows(subject, "policies", "manage", new Date("2026-11-16T21:00:00Z"))).toBe(false);
    expect(await consoleAllows(subject, "policies", "manage", new Date("2026-11-16T09:00:00Z"))).toBe(true);
  });

  it("another instance's publish reaches this one", async () => {
    const { subject } = await adminSubject();
    expect(await consoleAllows(subject, "users", "view")).toBe(true);
    // Written straight to the table, as another instance would.
    await db().policyVersion.create({ data: { text: `${DEFAULT_POLICIES}\n@id("no-users-page")\nforbid (principal, action, resource == Gatehouse::Console::"users");`, comment: "elsewhere" } });
    expect(await consoleAllows(subject, "users", "view")).toBe(false);
  });

  it("keeps one shared draft until a publish", async () => {
    const { subject, ctx } = await adminSubject();
    await saveDraft(`${DEFAULT_POLICIES}// draft`, ctx);
    expect((await policyEditorState()).draft?.text).toContain("// draft");
    await publishPolicies(`${DEFAULT_POLICIES}// draft`, "publish the draft", subject, listActiveAdmins, ctx);
    expect((await policyEditorState()).draft).toBeNull();
  });

  it("the simulator decides against unpublished text and names the deciding policy", async () => {
    const analyst = await makeUser({ roles: ["analyst"] });
    const form = { principalType: "user", principal: analyst.email, action: "view", resourceType: "console", resource: "audit", at: "2026-11-16T10:00", ip: "203.0.113.5", risk: "0.2", authStrength: "mfa" };
    const request = simulationSchema.parse(form);
    const principal = await findPrincipalByEmail(analyst.email.toUpperCase());
    expect(simulate(DEFAULT_POLICIES, request, principal)).toMatchObject({ kind: "decision", decision: "deny", policies: [] });
    expect(simulate(DEFAULT_POLICIES + ANALYSTS_READ_AUDIT, request, principal)).toMatchObject({ kind: "decision", decision: "allow", policies: ["analysts-read-audit"] });
    expect(simulate(DEFAULT_POLICIES, { ...request, principal: "nobody@example.test" }, await findPrincipalByEmail("nobody@example.test"))).toMatchObject({ kind: "unknown_principal" });
    expect(simulate("permit (", request, principal)).toMatchObject({ kind: "invalid" });
    // A time typed with its zone (…Z) is the same moment, and decides the same way.
    const zoned = simulationSchema.parse({ ...form, at: "2026-11-16T10:00:00Z" });
    expect(zoned.at).toEqual(request.at);
    expect(simulate(DEFAULT_POLICIES + ANALYSTS_READ_AUDIT, zoned, principal)).toMatchObject({ kind: "decision", decision: "allow", errors: [] });
  });
});
