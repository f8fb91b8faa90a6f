import { beforeEach, describe, expect, it } from "vitest";
// First: it swaps the request's session in before any action module is loaded.
import { actAs, signedInWithTotp } from "../support/server-actions";
import { db } from "@/lib/db/client";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { findActiveSession, markMfaVerified } from "@/lib/auth/sessions";
import { setDisabled } from "@/lib/auth";
import { listActiveAdmins, requirePasswordReset } from "@/lib/auth/users";
import type { RoleName } from "@/lib/auth/roles";
import { userContext } from "@/lib/audit/context";
import { DEFAULT_POLICIES, publishPolicies } from "@/lib/policy";
import { toCurrentUser, type CurrentUser } from "@/lib/auth/session-user";
import { resetDatabase } from "../support/db";
import { withPasskey } from "../support/mfa";
import { TEST_PASSWORD, client, ctx, makeUser, uniqueEmail } from "../support/factories";
import { formData as form } from "../support/forms";

// A stolen admin session cookie must not be enough to give access: creating an account, granting a
// role, enabling or unlocking an account, creating an OAuth client or a registration token, and
// allow-listing an address or removing a block need a second factor verified in the last minutes. Taking access away
// (disabling, block rules) stays one click, for incidents. The server actions run for real with the
// request's session swapped in.

let signedIn: CurrentUser | null = null;
const users = await import("@/app/admin/users/actions");
const clients = await import("@/app/admin/clients/actions");
const risk = await import("@/app/admin/risk/actions");
const account = await import("@/app/account/actions");

beforeEach(async () => {
  signedIn = actAs(null);
  await resetDatabase();
});

/** An admin (or `roles`) with TOTP, signed in with it; their MFA check was `minutesAgo` minutes ago. */
const adminVerified = (minutesAgo: number, roles: RoleName[] = ["admin"]) => signedInWithTotp(roles, minutesAgo);

const newUser = (email: string, roles: string[] = []) => form({ email, name: "New Person", password: TEST_PASSWORD, roles });
const newClient = form({
  name: "Stolen cookie's client", type: "confidential", grantTypes: "client_credentials", redirectUris: "", scopes: "pdp",
  resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400",
});
const STEP_UP = { ok: false, stepUp: true };

describe("admin actions that give access", () => {
  it("are refused without a fresh second factor, and change nothing", async () => {
    signedIn = actAs(await adminVerified(10));
    const target = await makeUser();
    await setDisabled(target.id, true, ctx);
    const email = uniqueEmail("minted");

    // What was typed comes back (secrets left out), so the form is not empty after the step-up.
    expect(await users.createUserAction({}, newUser(email, ["admin"]))).toMatchObject({ ...STEP_UP, values: { email, roles: "admin" } });
    expect(Object.keys((await users.createUserAction({}, newUser(email, ["admin"]))).values ?? {})).not.toContain("password");
    expect(await users.setRolesAction({}, form({ reason: "ticket 1", userId: target.id, roles: ["user", "admin"] }))).toMatchObject(STEP_UP);
    expect(await users.setDisabledAction({}, form({ reason: "ticket 1", userId: target.id, disabled: "false" }))).toMatchObject(STEP_UP);
    expect(await users.unlockSignInAction({}, form({ reason: "ticket 1", userId: target.id }))).toMatchObject(STEP_UP);
    expect(await users.setTemporaryPasswordAction({}, form({ reason: "ticket 9, identity checked by video call", userId: target.id, temporaryPassword: "a stolen cookie's password" }))).toMatchObject(STEP_UP);
    expect(await clients.createClientAction({}, newClient)).toMatchObject(STEP_UP);
    expect(await clients.issueRegistrationTokenAction({}, form({}))).toMatchObject(STEP_UP);
    expect(await clients.setClientDisabledAction({}, form({ clientId: "any-client", disabled: "false" }))).toMatchObject(STEP_UP);
    expect(await risk.addIpRuleAction({}, form({ cidr: "203.0.113.9", kind: "allow", note: "the attacker's laptop" }))).toMatchObject(STEP_UP);
    const block = await db().ipRule.create({ data: { cidr: "198.18.0.0/15", kind: "block", note: "credential stuffing" } });
    expect(await risk.removeIpRuleAction({}, form({ id: block.id }))).toMatchObject(STEP_UP);

    expect(await db().user.count({ where: { email } })).toBe(0);
    const after = await db().user.findUniqueOrThrow({ where: { id: target.id } });
    expect(after.disabledAt).not.toBeNull();
    expect(after.roles).toEqual(["user"]);
    expect(await db().oAuthClient.count()).toBe(0);
    expect((await db().ipRule.findMany()).map((r) => r.cidr)).toEqual(["198.18.0.0/15"]);
  });

  it("that take access away need no step-up", async () => {
    signedIn = actAs(await adminVerified(10));
    const target = await makeUser();
    expect(await users.setDisabledAction({}, form({ reason: "ticket 1", userId: target.id, disabled: "true" }))).toMatchObject({ ok: true });
    expect(await risk.addIpRuleAction({}, form({ cidr: "203.0.113.9", kind: "block", note: "credential stuffing" }))).toMatchObject({ ok: true });
    const allow = await db().ipRule.create({ data: { cidr: "192.0.2.0/24", kind: "allow", note: "office" } });
    expect(await risk.removeIpRuleAction({}, form({ id: allow.id }))).toMatchObject({ ok: true, message: "Rule removed." });
    expect((await db().user.findUniqueOrThrow({ where: { id: target.id } })).disabledAt).not.toBeNull();
    // Each says why: the reason is on every audit event the change wrote.
    expect(await db().auditEvent.findFirst({ where: { action: "user.disable", resourceId: target.id } })).toMatchObject({ metadata: expect.objectContaining({ justification: "ticket 1" }) });
    expect(await users.revokeAllUserSessionsAction({}, form({ userId: target.id }))).toMatchObject({ ok: false, fieldErrors: { reason: [expect.any(String)] } });
    // Nothing to act on is said so, and nothing is audited as done.
    const events = await db().auditEvent.count();
    expect(await users.revokeAllUserSessionsAction({}, form({ reason: "ticket 2", userId: "00000000-0000-0000-0000-000000000000" }))).toMatchObject({ ok: false, message: "That user does not exist." });
    expect(await clients.revokeClientGrantsAction({}, form({ clientId: "no-such-client" }))).toMatchObject({ ok: false, message: "No such client." });
    expect(await db().auditEvent.count()).toBe(events);
  });

  it("go through right after a second factor was verified", async () => {
    signedIn = actAs(await adminVerified(1));
    const email = uniqueEmail("hired");
    expect(await users.createUserAction({}, newUser(email, ["analyst"]))).toMatchObject({ ok: true, message: `Created ${email}.` });
    const hired = await db().user.findUniqueOrThrow({ where: { email } });
    expect([...hired.roles].sort()).toEqual(["analyst", "user"]);
    await setDisabled(hired.id, true, ctx);
    expect(await users.setDisabledAction({}, form({ reason: "ticket 1", userId: hired.id, disabled: "false" }))).toMatchObject({ ok: true, message: "Account enabled." });
  });

  it("a temporary password for a user who forgot theirs: old one gone, sessions ended, new one required at sign-in", async () => {
    signedIn = actAs(await adminVerified(1));
    const user = await makeUser();
    const before = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    if (!before.ok) throw new Error("sign-in failed");
    const temporary = "temporary passphrase 42";
    expect(await users.setTemporaryPasswordAction({}, form({ reason: "ticket 9, identity checked by video call", userId: user.id, temporaryPassword: "short" }))).toMatchObject({ ok: false, fieldErrors: { temporaryPassword: expect.any(Array) } });
    expect(await users.setTemporaryPasswordAction({}, form({ reason: "ticket 9, identity checked by video call", userId: user.id, temporaryPassword: "password1234" }))).toMatchObject({ ok: false, fieldErrors: { temporaryPassword: [expect.stringContaining("too easy to guess")] } });
    expect(await users.setTemporaryPasswordAction({}, form({ userId: user.id, temporaryPassword: temporary }))).toMatchObject({ ok: false, fieldErrors: { reason: ["Say why: it goes into the audit trail."] } });
    expect(await users.setTemporaryPasswordAction({}, form({ reason: "ticket 9, identity checked by video call", userId: user.id, temporaryPassword: temporary }))).toMatchObject({ ok: true });
    expect((await db().auditEvent.findFirstOrThrow({ where: { action: "password.temporary_set", outcome: "success" } })).metadata).toMatchObject({ justification: "ticket 9, identity checked by video call" });
    expect(await findActiveSession(before.sessionId)).toBeNull();
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toMatchObject({ ok: false });
    const after = await signInWithPassword({ email: user.email, password: temporary }, client(), null);
    if (!after.ok) throw new Error("the temporary password did not sign in");
    expect((await db().session.findUniqueOrThrow({ where: { id: after.sessionId } })).stage).toBe("password_change_required");
    // The guessable one was refused and audited as such; the too-short one never reached the screening.
    const events = await db().auditEvent.findMany({ where: { action: "password.temporary_set", resourceId: user.id }, orderBy: { seq: "asc" }, select: { outcome: true } });
    expect(events.map((e) => e.outcome)).toEqual(["failure", "success"]);
  });
});

/** `admin` publishes `text` from a known address with a fresh second factor (as the policy editor would). */
async function publishAs(admin: { id: string; email: string; roles: RoleName[] }, text: string, comment: string) {
  const publisher = { userId: admin.id, email: admin.email, roles: admin.roles, ip: "198.51.100.1", risk: 0, authStrength: "mfa" as const, mfaFresh: true, deviceTrusted: false };
  expect((await publishPolicies(text, comment, publisher, listActiveAdmins, userContext(admin, null))).ok).toBe(true);
}

describe("someone other than an admin whom a policy lets manage users (a help desk)", () => {
  it("acts on accounts holding only roles they hold too, never on an admin's (no takeover by temporary password or MFA reset)", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const helpDesk = `${DEFAULT_POLICIES}\n@id("analysts-manage-users")\npermit (principal in Gatehouse::Role::"analyst", action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"], resource == Gatehouse::Console::"users");\n`;
    await publishAs(admin, helpDesk, "help desk");
    signedIn = actAs(await adminVerified(1, ["analyst"]));
    const user = await makeUser();
    const refusal = { ok: false, message: "Only an admin can do this to an account with roles you do not hold: admin." };

    expect(await users.setTemporaryPasswordAction({}, form({ reason: "ticket 9, identity checked by video call", userId: admin.id, temporaryPassword: "the help desk's passphrase" }))).toMatchObject(refusal);
    expect(await users.resetMfaAction({}, form({ userId: admin.id, reason: "says they lost their phone" }))).toMatchObject(refusal);
    expect(await users.setDisabledAction({}, form({ reason: "ticket 1", userId: admin.id, disabled: "true" }))).toMatchObject(refusal);
    expect(await users.revokeAllUserSessionsAction({}, form({ reason: "ticket 1", userId: admin.id }))).toMatchObject(refusal);
    // Not in two steps either: first demote the admin, then act on a plain user.
    expect(await users.setRolesAction({}, form({ reason: "ticket 1", userId: admin.id, roles: ["user"] }))).toMatchObject(refusal);
    expect((await db().user.findUniqueOrThrow({ where: { id: admin.id } })).roles).toContain("admin");
    expect(await signInWithPassword({ email: admin.email, password: TEST_PASSWORD }, client(), null)).toMatchObject({ ok: true });
    expect((await db().user.findUniqueOrThrow({ where: { id: admin.id } })).disabledAt).toBeNull();
    expect(await db().auditEvent.count({ where: { resourceId: admin.id, outcome: "blocked", metadata: { path: ["reason"], equals: "target_holds_roles_actor_lacks" } } })).toBe(5);

    expect(await users.setTemporaryPasswordAction({}, form({ reason: "ticket 9, identity checked by video call", userId: user.id, temporaryPassword: "the help desk's passphrase" }))).toMatchObject({ ok: true });
    expect(await signInWithPassword({ email: user.email, password: "the help desk's passphrase" }, client(), null)).toMatchObject({ ok: true });
    expect(await users.resetMfaAction({}, form({ userId: user.id, reason: "lost their phone, checked on a call" }))).toMatchObject({ ok: true });
    // The reason goes with every event of the reset, the sessions it ended too.
    expect(await db().auditEvent.findFirst({ where: { action: "session.revoke_all", resourceId: user.id, metadata: { path: ["reason"], equals: "mfa_reset" } } }))
      .toMatchObject({ metadata: { justification: "lost their phone, checked on a call" } });
  });
});

describe("a help desk and the apps", () => {
  it("cannot take over an account that may get tokens for an app the help desk may not (by temporary password or MFA reset)", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    await db().oAuthClient.create({ data: { id: "payroll", name: "Payroll", source: "console", metadata: { client_id: "payroll", client_name: "Payroll" } } });
    const text = `${DEFAULT_POLICIES}
@id("analysts-manage-users")
permit (principal in Gatehouse::Role::"analyst", action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"], resource == Gatehouse::Console::"users");
@id("no-payroll-for-analysts")
forbid (principal in Gatehouse::Role::"analyst", action == Gatehouse::Action::"issueToken", resource == Gatehouse::Client::"payroll");
`;
    await publishAs(admin, text, "help desk, payroll kept from analysts");
    signedIn = actAs(await adminVerified(1, ["analyst"]));
    const clerk = await makeUser();
    expect(await users.setTemporaryPasswordAction({}, form({ reason: "ticket 9, identity checked by video call", userId: clerk.id, temporaryPassword: "the help desk's passphrase" }))).toMatchObject({ ok: false, message: expect.stringContaining("get tokens for Payroll") });
    expect(await users.resetMfaAction({}, form({ userId: clerk.id, reason: "lost their phone" }))).toMatchObject({ ok: false, message: expect.stringContaining("get tokens for Payroll") });
  });
});

describe("a help desk and policies that trust more than roles (an email domain)", () => {
  it("cannot mint an account the policies trust, by creating it or by changing its email; a refused role grant is audited", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const text = `${DEFAULT_POLICIES}
@id("analysts-manage-users")
permit (principal in Gatehouse::Role::"analyst", action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"], resource == Gatehouse::Console::"users");
@id("secops-edit-policies")
permit (principal, action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"], resource == Gatehouse::Console::"policies") when { principal.email like "*@secops.example.test" };
`;
    await publishAs(admin, text, "help desk, secops by domain");
    signedIn = actAs(await adminVerified(1, ["analyst"]));
    const plain = await makeUser();

    const created = await users.createUserAction({}, newUser("sock@secops.example.test"));
    expect(created).toMatchObject({ ok: false, fieldErrors: { roles: [expect.stringContaining("policies")] } });
    expect(await db().user.count({ where: { email: "sock@secops.example.test" } })).toBe(0);
    const renamed = await users.changeEmailAction({}, form({ reason: "ticket 10, a typo at creation", userId: plain.id, email: "renamed@secops.example.test" }));
    expect(renamed).toMatchObject({ ok: false, fieldErrors: { email: [expect.stringContaining("policies")] } });
    expect((await db().user.findUniqueOrThrow({ where: { id: plain.id } })).email).toBe(plain.email);
    expect(await users.changeEmailAction({}, form({ reason: "ticket 10, a typo at creation", userId: plain.id, email: "renamed@elsewhere.example.test" }))).toMatchObject({ ok: true });
    // Trying to grant a role one lacks is on the record, as the other refusals are.
    expect(await users.setRolesAction({}, form({ reason: "ticket 2", userId: plain.id, roles: ["user", "admin"] }))).toMatchObject({ ok: false });
    const blocked = await db().auditEvent.findMany({ where: { outcome: "blocked", action: { in: ["user.create", "user.email.change", "user.roles.update"] } }, orderBy: { seq: "asc" } });
    expect(blocked.map((e) => e.action)).toEqual(["user.create", "user.email.change", "user.roles.update"]);
  });

  it("cannot give a role that would let the account do what the help desk may not (the role and the domain together)", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const text = `${DEFAULT_POLICIES}
@id("analysts-manage-users")
permit (principal in Gatehouse::Role::"analyst", action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"], resource == Gatehouse::Console::"users");
@id("secops-analysts-edit-policies")
permit (principal in Gatehouse::Role::"analyst", action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"], resource == Gatehouse::Console::"policies") when { principal.email like "*@secops.example.test" };
`;
    await publishAs(admin, text, "help desk, secops analysts edit policies");
    signedIn = actAs(await adminVerified(1, ["analyst"]));
    // Nothing the help desk may not do before the change: a plain user is theirs to help.
    const bob = await makeUser({ email: "bob@secops.example.test" });
    const granted = await users.setRolesAction({}, form({ reason: "ticket 3", userId: bob.id, roles: ["user", "analyst"] }));
    expect(granted).toMatchObject({ ok: false, message: expect.stringContaining("manage policies") });
    expect((await db().user.findUniqueOrThrow({ where: { id: bob.id } })).roles).toEqual(["user"]);
    expect(await db().auditEvent.findFirstOrThrow({ where: { action: "user.roles.update", outcome: "blocked", resourceId: bob.id } })).toMatchObject({ metadata: { roles: ["user", "analyst"] } });
    // The same role for someone the policies do not trust more is the help desk's to give.
    const carol = await makeUser({ email: "carol@elsewhere.example.test" });
    expect(await users.setRolesAction({}, form({ reason: "ticket 4", userId: carol.id, roles: ["user", "analyst"] }))).toMatchObject({ ok: true });
  });

  it("an email change that would shut every admin out of the policy editor is refused", async () => {
    const keeper = await makeUser({ roles: ["admin"], email: "keeper@example.test" });
    const text = `${DEFAULT_POLICIES}
@id("only-the-keeper-edits-policies")
forbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies") unless { principal.email == "keeper@example.test" };
`;
    await publishAs(keeper, text, "one keeper");
    signedIn = actAs(await adminVerified(1));
    expect(await users.changeEmailAction({}, form({ reason: "ticket 10, a typo at creation", userId: keeper.id, email: "keeper-renamed@example.test" }))).toMatchObject({ ok: false, message: expect.stringContaining("Refused") });
    expect((await db().user.findUniqueOrThrow({ where: { id: keeper.id } })).email).toBe("keeper@example.test");
  });
});

describe("changing a password an incident distrusts, from a session verified with a second factor", () => {
  it("works with the factor fresh: the owner who proved it replaces the password, which then satisfies the requirement", async () => {
    signedIn = actAs(await adminVerified(1));
    // The session verified TOTP, so the requirement leaves it open.
    await requirePasswordReset(signedIn.id, "INC-11: credential stuffing", ctx);
    expect(await findActiveSession(signedIn.sessionId)).not.toBeNull();
    // The distrusted password "changed" to itself is refused: it would lift the distrust and change nothing.
    const same = form({ currentPassword: TEST_PASSWORD, newPassword: TEST_PASSWORD, confirmPassword: TEST_PASSWORD });
    expect(await account.changePasswordAction({}, same)).toMatchObject({ ok: false, fieldErrors: { newPassword: ["Choose a password different from your current one."] } });
    expect((await db().user.findUniqueOrThrow({ where: { id: signedIn.id } })).passwordResetRequiredAt).not.toBeNull();
    expect(await db().auditEvent.count({ where: { action: "password.change", outcome: "failure", metadata: { path: ["reason"], equals: "same_password" } } })).toBe(1);
    const newPassword = "a brand new passphrase for the owner";
    const fields = form({ currentPassword: TEST_PASSWORD, newPassword, confirmPassword: newPassword });
    expect(await account.changePasswordAction({}, fields)).toMatchObject({ ok: true });
    expect((await db().user.findUniqueOrThrow({ where: { id: signedIn.id } })).passwordResetRequiredAt).toBeNull();
    expect(await signInWithPassword({ email: signedIn.email, password: newPassword }, client(), null)).toMatchObject({ ok: true });
  });
});

describe("a policy that allows an action only with a fresh second factor", () => {
  it("asks for the step-up instead of refusing, and the page shows the controls", async () => {
    const publisher = await adminVerified(1);
    const text = `${DEFAULT_POLICIES}\n@id("policy-edits-need-fresh-mfa")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies") unless { context.mfaFresh };\n`;
    expect(await publishPolicies(text, "policy edits need a fresh second factor", { ip: client().ip }, listActiveAdmins, userContext(publisher, client()))).toMatchObject({ ok: true });
    const policies = await import("@/app/admin/policies/actions");
    const { canAccess, canAccessAfterStepUp } = await import("@/lib/auth/access");

    signedIn = actAs(await adminVerified(10));
    expect(await canAccess(signedIn, { section: "policies", action: "manage" })).toBe(false);
    expect(await canAccessAfterStepUp(signedIn, { section: "policies", action: "manage" })).toBe(true);
    expect(await policies.rollbackPoliciesAction({}, form({ version: "0" }))).toMatchObject(STEP_UP);
    // What no second factor would change stays a refusal.
    signedIn = actAs(await adminVerified(10, ["analyst"]));
    const refused = await policies.rollbackPoliciesAction({}, form({ version: "0" }));
    expect(refused).toMatchObject({ ok: false, message: "The access policies do not allow you to do this." });
    expect(refused).not.toHaveProperty("stepUp");
  });

  it("one that accepts only a passkey asks for a passkey from someone who has one, and refuses someone who has none", async () => {
    const publisher = await adminVerified(1);
    const text = `${DEFAULT_POLICIES}\n@id("incidents-need-a-passkey")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"incidents") unless { context.authStrength == "phishing_resistant" };\n`;
    expect(await publishPolicies(text, "incident response needs a passkey", { ip: client().ip }, listActiveAdmins, userContext(publisher, client()))).toMatchObject({ ok: true });
    const incidents = await import("@/app/admin/incidents/actions");
    const { canAccessAfterStepUp, checkAccessOrStepUp } = await import("@/lib/auth/access");
    const manageIncidents = { section: "incidents", action: "manage" } as const;
    const note = form({ incidentId: "00000000-0000-4000-8000-000000000000", text: "looked at it" });

    // Signed in with a code a minute ago: fresh, but a code is not phishing-resistant.
    signedIn = actAs(await adminVerified(1));
    expect(await incidents.addNoteAction({}, note)).toMatchObject({ ok: false, message: "The access policies do not allow you to do this." });
    expect(await canAccessAfterStepUp(signedIn, manageIncidents)).toBe(false);
    expect(await checkAccessOrStepUp(signedIn, manageIncidents)).toBe("deny");
    // The refusal names the policy that made it.
    expect(await db().auditEvent.findFirst({ where: { action: "access.denied", actorId: signedIn.id }, select: { policyDecisions: true } })).toEqual({ policyDecisions: [{ action: "manage", decision: "deny", policies: ["incidents-need-a-passkey"], version: 1 }] });

    // With a passkey on the account, the same session is asked for it, by the action and by a page.
    await withPasskey(signedIn.id);
    expect(await canAccessAfterStepUp(signedIn, manageIncidents)).toBe(true);
    expect(await incidents.addNoteAction({}, note)).toMatchObject({ ok: false, stepUp: "passkey", values: { text: "looked at it" } });
    expect(await checkAccessOrStepUp(signedIn, manageIncidents)).toBe("step-up-passkey");
    // A route (a download) says what to do rather than a flat refusal.
    const { routeCaller } = await import("@/lib/auth/route-guard");
    const download = await routeCaller(manageIncidents);
    expect(download).toBeInstanceOf(Response);
    expect(await (download as Response).json()).toEqual({ error: "step_up_required", error_description: "The access policies ask you to confirm it is you with a passkey first: reload the page you came from." });
    // Confirmed with it: in.
    await markMfaVerified(signedIn.sessionId, "passkey");
    signedIn = actAs(toCurrentUser((await findActiveSession(signedIn.sessionId))!));
    expect(await incidents.addNoteAction({}, note)).toMatchObject({ ok: false, message: "No such incident." });
    expect(await checkAccessOrStepUp(signedIn, manageIncidents)).toBe("allow");
  });

  it("an app that may have tokens only after a passkey sign-in: its login page asks for the passkey of someone who has one", async () => {
    const publisher = await adminVerified(1);
    const text = `${DEFAULT_POLICIES}\n@id("apps-need-a-passkey")\nforbid (principal is Gatehouse::User, action == Gatehouse::Action::"issueToken", resource) unless { context.authStrength == "phishing_resistant" };\n`;
    expect(await publishPolicies(text, "apps need a passkey", { ip: client().ip }, listActiveAdmins, userContext(publisher, client()))).toMatchObject({ ok: true });
    const { tokenIssuanceAfterPasskey, tokenIssuanceDecision } = await import("@/lib/auth/access");
    const app = { id: "wiki", name: "Wiki" };
    const user = await adminVerified(1, []);
    expect((await tokenIssuanceDecision(user, app)).decision).toBe("deny");
    expect(await tokenIssuanceAfterPasskey(user, app)).toBe(false);
    await withPasskey(user.id);
    expect(await tokenIssuanceAfterPasskey(user, app)).toBe(true);
    await markMfaVerified(user.sessionId, "passkey");
    const confirmed = toCurrentUser((await findActiveSession(user.sessionId))!);
    expect((await tokenIssuanceDecision(confirmed, app)).decision).toBe("allow");
    expect(await tokenIssuanceAfterPasskey(confirmed, app)).toBe(false);
  });

  it("publishing or rolling back policies needs a second factor, even for someone a policy lets manage them and who has none", async () => {
    const admin = await adminVerified(1);
    const analystsManagePolicies = `${DEFAULT_POLICIES}\n@id("analysts-manage-policies")\npermit (principal in Gatehouse::Role::"analyst", action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"], resource == Gatehouse::Console::"policies");\n`;
    expect(await publishPolicies(analystsManagePolicies, "analysts manage policies", { ip: client().ip }, listActiveAdmins, userContext(admin, client()))).toMatchObject({ ok: true, version: 1 });
    const policies = await import("@/app/admin/policies/actions");

    // Signed in a moment ago with the password alone: fresh, but no second factor.
    const analyst = await makeUser({ roles: ["analyst"] });
    const result = await signInWithPassword({ email: analyst.email, password: TEST_PASSWORD }, client(), null);
    if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
    signedIn = actAs(toCurrentUser((await findActiveSession(result.sessionId))!));
    const noFactor = { ok: false, message: expect.stringContaining("needs a second factor") };
    expect(await policies.publishPoliciesAction({}, form({ text: DEFAULT_POLICIES, comment: "drop the analysts' rights", baseVersion: "1" }))).toMatchObject(noFactor);
    expect(await policies.rollbackPoliciesAction({}, form({ version: "0", baseVersion: "1" }))).toMatchObject(noFactor);
    // Nor what policies can name: another service's types.
    expect(await policies.registerServiceSchemaAction({}, form({ namespace: "Docs", text: "namespace Docs { entity Document; }" }))).toMatchObject(noFactor);
    expect(await db().policyServiceSchema.count()).toBe(0);
    // A draft is not in force: saving one needs no factor.
    expect(await policies.saveDraftAction({}, form({ text: DEFAULT_POLICIES, baseVersion: "1" }))).toMatchObject({ ok: true });

    // With a second factor verified a moment ago, an analyst publishes; not one whose role was
    // taken away after their request was let in (it reaches the publish lock after the change).
    signedIn = actAs(await adminVerified(1, ["analyst"]));
    await db().user.update({ where: { id: signedIn.id }, data: { roles: ["user"] } });
    expect(await policies.rollbackPoliciesAction({}, form({ version: "0", baseVersion: "1" }))).toMatchObject({ ok: false, message: expect.stringContaining("Your own access changed") });
    expect(await db().auditEvent.count({ where: { action: "policy.rollback", outcome: "blocked", metadata: { path: ["reason"], equals: "publisher_changed" } } })).toBe(1);
    await db().user.update({ where: { id: signedIn.id }, data: { roles: ["user", "analyst"] } });
    expect(await policies.rollbackPoliciesAction({}, form({ version: "0", baseVersion: "1" }))).toMatchObject({ ok: true });
    expect((await db().policyVersion.findMany()).map((v) => v.version)).toEqual([1, 2]);
  });
});
