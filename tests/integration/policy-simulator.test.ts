import { beforeEach, describe, expect, it } from "vitest";
// First: it swaps the request's session in before any action module is loaded.
import { actAs, signedInWithTotp } from "../support/server-actions";
import { userContext } from "@/lib/audit/context";
import { listActiveAdmins } from "@/lib/auth/users";
import { DEFAULT_POLICIES, publishPolicies } from "@/lib/policy";
import { enforceVersion } from "@/lib/policy/pdp";
import { resetDatabase } from "../support/db";
import { makeUser } from "../support/factories";
import { formData as form } from "../support/forms";

// The policy editor's simulator, through its server action with the request's session swapped in:
// a user's decision tells whether the account exists and what it holds, so simulating a user is for
// those who may see the users list too, not for everyone the policies let read the policies.

const policies = await import("@/app/admin/policies/actions");

beforeEach(async () => {
  actAs(null);
  await resetDatabase();
  enforceVersion(0, DEFAULT_POLICIES);
});

const AUDITORS_READ_POLICIES = `${DEFAULT_POLICIES}\n@id("auditors-read-policies")\npermit (principal in Gatehouse::Role::"auditor", action == Gatehouse::Action::"view", resource == Gatehouse::Console::"policies");\n`;

const simulation = (principalType: "user" | "client", principal: string) => form({
  text: DEFAULT_POLICIES, principalType, principal, action: "view", resourceType: "console", resource: "users",
  at: "2026-12-07T10:00", risk: "0", authStrength: "mfa", mfaFresh: "on",
});

describe("the policy simulator", () => {
  it("simulates a user for someone who may see the users list, and refuses someone who may only read the policies", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const subject = { userId: admin.id, email: admin.email, roles: admin.roles, groups: [], ip: "198.51.100.1", risk: 0, authStrength: "mfa" as const, mfaFresh: true, deviceTrusted: false };
    expect(await publishPolicies(AUDITORS_READ_POLICIES, "auditors read the policies", subject, listActiveAdmins, userContext(admin, null))).toMatchObject({ ok: true });
    const someone = await makeUser({ roles: ["analyst"] });

    actAs(await signedInWithTotp(["auditor"]));
    expect(await policies.simulateAction({}, simulation("user", someone.email))).toMatchObject({ ok: false, fieldErrors: { principal: [expect.stringContaining("needs access to the users page")] } });
    // An address with no account gets the same answer: nothing tells the two apart.
    expect(await policies.simulateAction({}, simulation("user", "nobody@example.test"))).toMatchObject({ ok: false, fieldErrors: { principal: [expect.stringContaining("needs access to the users page")] } });
    expect(await policies.simulateAction({}, simulation("client", "billing-api"))).toMatchObject({ ok: true, data: { kind: "decision", decision: "deny" } });

    actAs(await signedInWithTotp(["admin"]));
    expect(await policies.simulateAction({}, simulation("user", someone.email))).toMatchObject({ ok: true, data: { kind: "decision", decision: "deny" } });
    expect(await policies.simulateAction({}, simulation("user", admin.email))).toMatchObject({ ok: true, data: { kind: "decision", decision: "allow" } });
  });
});
