import { createHash } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { recordAuditEvent } from "@/lib/audit";
import { userContext } from "@/lib/audit/context";
import { setDisabled } from "@/lib/auth/users";
import { controlStatus, exceptionSchema, grantException, runControlTests } from "@/lib/compliance";
import { resetDatabase } from "../support/db";
import { enrollTotp, withPasskey } from "../support/mfa";
import { ctx, makeUser } from "../support/factories";

beforeEach(resetDatabase);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function resultOf(check: string, now = new Date()) {
  const { results } = await runControlTests("manual", ctx, now);
  return results.find((r) => r.check === check)!;
}

async function statusOf(control: string, now = new Date()) {
  return (await controlStatus(now)).find((c) => c.id === control)!;
}

describe("control tests flip with the system's state", () => {
  it("CC6.1: an admin without a second factor fails, and passes once enrolled; analysts need a passkey", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    expect(await resultOf("admins_have_mfa")).toMatchObject({ status: "fail", summary: "1 admin(s) without a second factor" });
    await enrollTotp(admin);
    expect(await resultOf("admins_have_mfa")).toMatchObject({ status: "pass" });

    const analyst = await makeUser({ roles: ["analyst"] });
    await enrollTotp(analyst);
    expect((await resultOf("analysts_phishing_resistant")).status).toBe("fail");
    await withPasskey(analyst.id);
    expect((await resultOf("analysts_phishing_resistant")).status).toBe("pass");
  });

  it("CC6.2: an account idle for 90 days fails until it is disabled", async () => {
    await makeUser({ roles: ["admin"] }); // Gatehouse keeps one active admin
    const idle = await makeUser();
    await db().user.update({ where: { id: idle.id }, data: { lastSignInAt: new Date(Date.now() - 100 * DAY) } });
    expect(await resultOf("inactive_accounts_disabled")).toMatchObject({ status: "fail" });
    await setDisabled(idle.id, true, ctx);
    expect(await resultOf("inactive_accounts_disabled")).toMatchObject({ status: "pass" });
  });

  it("CC6.6: a client with a plain-http redirect URI fails", async () => {
    expect((await resultOf("clients_oauth21")).status).toBe("pass");
    await db().oAuthClient.create({ data: { id: "legacy", name: "Legacy", source: "console", metadata: { redirect_uris: ["http://legacy.example.test/cb"], grant_types: ["authorization_code"] } } });
    expect(await resultOf("clients_oauth21")).toMatchObject({ status: "fail", summary: "1 client(s) with a non-compliant redirect URI" });
  });

  it("CC7.2: the audit chain must have been verified, successfully, in the last 24 hours", async () => {
    expect((await resultOf("audit_chain_verified")).status).toBe("fail");
    await recordAuditEvent({ type: "security", action: "audit.chain.verify", outcome: "success", actor: { type: "system", id: null, label: "test" }, metadata: { eventsChecked: 1 } });
    expect((await resultOf("audit_chain_verified")).status).toBe("pass");
    expect((await resultOf("audit_chain_verified", new Date(Date.now() + 25 * HOUR))).status).toBe("fail");
  });

  it("CC7.3: a critical incident open for over 4 hours fails", async () => {
    expect((await resultOf("critical_incidents_handled")).status).toBe("pass");
    await db().incident.create({ data: { type: "audit_tampering", title: "Chain broken", severity: "critical", createdAt: new Date(Date.now() - 5 * HOUR), lastAlertAt: new Date() } });
    expect((await resultOf("critical_incidents_handled")).status).toBe("fail");
  });

  it("CC8.1: a policy version without an author fails", async () => {
    expect((await resultOf("changes_attributed")).status).toBe("pass");
    await db().policyVersion.create({ data: { text: "// nothing", comment: "pushed by a script" } });
    expect(await resultOf("changes_attributed")).toMatchObject({ status: "fail", summary: "1 change(s) without an author or comment" });
  });
});

describe("runs, evidence and exceptions", () => {
  it("stores each check's evidence with its hash, and audits the hashes", async () => {
    const { runId, results } = await runControlTests("manual", ctx);
    const stored = await db().complianceResult.findMany({ where: { runId } });
    expect(stored).toHaveLength(results.length);
    for (const r of stored) expect(createHash("sha256").update(r.evidence).digest("hex")).toBe(r.evidenceSha256);
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "compliance.run" } });
    expect((event.metadata as { results: string[] }).results).toContain(`admins_have_mfa:pass:${stored.find((r) => r.check === "admins_have_mfa")!.evidenceSha256}`);
  });

  it("an exception makes a failing control excepted until it expires; controls never tested say so", async () => {
    const requester = await makeUser({ roles: ["admin"] });
    const approver = await makeUser({ roles: ["admin"] });
    await enrollTotp(approver);
    expect((await statusOf("CC6.1")).status).toBe("not_tested");
    await runControlTests("manual", ctx);
    expect((await statusOf("CC6.1")).status).toBe("fail");

    const expiresAt = new Date(Date.now() + 7 * DAY);
    const input = exceptionSchema.parse({ control: "CC6.1", justification: "New admin enrolls a key on Monday.", expiresAt: expiresAt.toISOString(), approverEmail: approver.email });
    expect(await grantException({ ...input, approverEmail: requester.email }, userContext(requester, null))).toMatchObject({ ok: false });
    expect(await grantException(input, userContext(requester, null))).toMatchObject({ ok: true });
    expect((await statusOf("CC6.1")).status).toBe("excepted");
    expect((await statusOf("CC6.1", new Date(expiresAt.getTime() + HOUR))).status).toBe("fail");

    expect(exceptionSchema.safeParse({ ...input, expiresAt: new Date(Date.now() - DAY).toISOString() }).success).toBe(false);
    expect(exceptionSchema.safeParse({ ...input, justification: "because" }).success).toBe(false);
    expect(await db().auditEvent.count({ where: { action: "compliance.exception.grant" } })).toBe(1);
  });
});
