import { beforeEach, describe, expect, it, vi } from "vitest";
import { userContext } from "@/lib/audit/context";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { findActiveSession } from "@/lib/auth/sessions";
import { completeMfaStep } from "@/lib/auth/mfa-step";
import { listActiveAdmins } from "@/lib/auth/users";
import type { RoleName } from "@/lib/auth/roles";
import { toCurrentUser, type CurrentUser } from "@/lib/auth/session-user";
import { DEFAULT_POLICIES, publishPolicies } from "@/lib/policy";
import { enforceVersion } from "@/lib/policy/pdp";
import { resetDatabase } from "../support/db";
import { codeAt, withTotp } from "../support/mfa";
import { TEST_PASSWORD, client, ctx, makeUser } from "../support/factories";
import { formData as form } from "../support/forms";

// The policy editor's simulator, through its server action with the request's session swapped in:
// a user's decision tells whether the account exists and what it holds, so simulating a user is for
// those who may see the users list too, not for everyone the policies let read the policies.

let signedIn: CurrentUser | null = null;
vi.mock("@/lib/auth/current", async (importOriginal) => ({ ...(await importOriginal<object>()), currentUser: async () => signedIn, currentPendingSignIn: async () => null }));
vi.mock("@/lib/auth/next-auth", () => ({ auth: async () => null, signIn: async () => undefined, signOut: async () => undefined, handlers: {}, ThrottledSignIn: class {}, RefusedSignIn: class {} }));
vi.mock("@/lib/http/request-context", () => ({ requestContext: async () => client(), requestPath: async () => "/" }));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));
vi.mock("next/headers", () => ({ headers: async () => new Headers({ "sec-fetch-site": "none" }) }));
const policies = await import("@/app/admin/policies/actions");

beforeEach(async () => {
  signedIn = null;
  await resetDatabase();
  enforceVersion(0, DEFAULT_POLICIES);
});

async function signedInWith(roles: RoleName[]): Promise<CurrentUser> {
  const { user, secret } = await withTotp(roles);
  const result = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
  if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
  const pending = { ...toCurrentUser((await findActiveSession(result.sessionId))!), stage: "mfa_required" as const, requiredFactor: "any" as const };
  expect(await completeMfaStep(pending, { method: "totp", code: await codeAt(secret, new Date()) }, false, ctx)).toMatchObject({ ok: true });
  return toCurrentUser((await findActiveSession(result.sessionId))!);
}

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

    signedIn = await signedInWith(["auditor"]);
    expect(await policies.simulateAction({}, simulation("user", someone.email))).toMatchObject({ ok: false, fieldErrors: { principal: [expect.stringContaining("needs access to the users page")] } });
    // An address with no account gets the same answer: nothing tells the two apart.
    expect(await policies.simulateAction({}, simulation("user", "nobody@example.test"))).toMatchObject({ ok: false, fieldErrors: { principal: [expect.stringContaining("needs access to the users page")] } });
    expect(await policies.simulateAction({}, simulation("client", "billing-api"))).toMatchObject({ ok: true, data: { kind: "decision", decision: "deny" } });

    signedIn = await signedInWith(["admin"]);
    expect(await policies.simulateAction({}, simulation("user", someone.email))).toMatchObject({ ok: true, data: { kind: "decision", decision: "deny" } });
    expect(await policies.simulateAction({}, simulation("user", admin.email))).toMatchObject({ ok: true, data: { kind: "decision", decision: "allow" } });
  });
});
