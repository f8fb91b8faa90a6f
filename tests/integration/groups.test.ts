import { beforeEach, describe, expect, it, vi } from "vitest";
import { db } from "@/lib/db/client";
import type { CurrentUser } from "@/lib/auth/session-user";
import { findActiveSession } from "@/lib/auth/sessions";
import { policySubject, toCurrentUser } from "@/lib/auth/session-user";
import { actingOnRefusal, deleteUser, listActiveAdmins, setDisabled, setRoles } from "@/lib/auth/users";
import { findGroup, removeMember } from "@/lib/groups";
import { userContext } from "@/lib/audit/context";
import { consoleAllows, DEFAULT_POLICIES, publishPolicies } from "@/lib/policy";
import type { RoleName } from "@/lib/auth/roles";
import { resetDatabase } from "../support/db";
import { client, makeUser } from "../support/factories";
import { formData as form } from "../support/forms";

// Groups as the console changes them (the server actions, with their guards) and as the policies
// see them (parents of the user in every decision, read off the session at each request).

let signedIn: CurrentUser | null = null;
vi.mock("@/lib/auth/current", async (importOriginal) => ({ ...(await importOriginal<object>()), currentUser: async () => signedIn, currentPendingSignIn: async () => null }));
vi.mock("@/lib/auth/next-auth", () => ({ auth: async () => null, signIn: async () => undefined, signOut: async () => undefined, handlers: {}, ThrottledSignIn: class {}, RefusedSignIn: class {} }));
vi.mock("@/lib/http/request-context", () => ({ requestContext: async () => client(), requestPath: async () => "/" }));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));
const actions = await import("@/app/admin/groups/actions");

beforeEach(async () => {
  signedIn = null;
  await resetDatabase();
});

/** A signed-in user with `roles` (and a session row, so the policies see their groups as a request would) whose last verification was `minutesAgo` ago. */
async function signedInAs(roles: RoleName[], minutesAgo = 1): Promise<CurrentUser> {
  const user = await makeUser({ roles });
  const verifiedAt = new Date(Date.now() - minutesAgo * 60_000);
  const session = await db().session.create({ data: { userId: user.id, expiresAt: new Date(Date.now() + 3_600_000), authMethods: ["password", "totp"], mfaVerifiedAt: verifiedAt, passwordVerifiedAt: verifiedAt } });
  return fromSession(session.id);
}

async function fromSession(sessionId: string): Promise<CurrentUser> {
  return toCurrentUser((await findActiveSession(sessionId))!);
}

const REASON = "TICKET-42";
const BREAKGLASS_RUNS_POLICIES = `@id("breakglass-runs-policies")\npermit (principal in Gatehouse::Group::"breakglass", action, resource == Gatehouse::Console::"policies");`;
const CONTRACTORS_KEPT_OUT_OF_INCIDENTS = `@id("no-contractors-in-incidents")\nforbid (principal in Gatehouse::Group::"contractors", action, resource == Gatehouse::Console::"incidents");`;
const ONLY_POLICY_ADMINS_EDIT = `@id("only-policy-admins-edit")\nforbid (principal, action, resource == Gatehouse::Console::"policies") unless { principal in Gatehouse::Group::"policy-admins" };`;
const ANALYSTS_MANAGE_USERS = `@id("analysts-manage-users")\npermit (principal in Gatehouse::Role::"analyst", action, resource == Gatehouse::Console::"users");`;
/** Where the action sent the browser: Next.js's redirect() throws an error whose digest says (NEXT_REDIRECT;replace;<path>;307;); null if it answered instead. */
const redirectOf = async (answer: Promise<unknown>) =>
  answer.then(() => null, (error: unknown) => {
    const digest = (error as { digest?: string }).digest ?? "";
    return digest.startsWith("NEXT_REDIRECT;") ? digest.split(";")[2] : Promise.reject(error);
  });
/** Publishes the built-in policies and `text` as `admin` (the lockout guard asked of every active admin); the publish must pass. */
async function publishAs(admin: CurrentUser, text: string) {
  expect(await publishPolicies(`${DEFAULT_POLICIES}\n${text}`, "test policies", policySubject(admin, null), listActiveAdmins, userContext(admin, null))).toMatchObject({ ok: true });
}
const members = async (groupId: string) => (await db().groupMember.findMany({ where: { groupId }, select: { user: { select: { email: true } } } })).map((m) => m.user.email).sort();
const auditActions = async () => (await db().auditEvent.findMany({ where: { action: { startsWith: "group." } }, orderBy: { seq: "asc" } })).map((e) => `${e.action}:${e.outcome}`);

describe("groups in the console", () => {
  it("an admin makes a group, adds and removes members with a reason; every change is audited with it", async () => {
    const admin = (signedIn = await signedInAs(["admin"]));
    const alice = await makeUser({ email: "alice@example.test" });
    const bob = await makeUser({ email: "bob@example.test" });

    expect(await redirectOf(actions.createGroupAction({}, form({ id: " SecOps ", name: "Security operations", description: "On call" })))).toBe("/admin/groups/secops");
    expect(await db().group.findUnique({ where: { id: "secops" } })).toMatchObject({ name: "Security operations", description: "On call" });

    expect(await actions.addMemberAction({}, form({ groupId: "secops", email: "ALICE@example.test", reason: REASON }))).toMatchObject({ ok: true });
    expect(await actions.addMemberAction({}, form({ groupId: "secops", email: bob.email, reason: REASON }))).toMatchObject({ ok: true });
    expect(await members("secops")).toEqual([alice.email, bob.email]);
    expect(await actions.removeMemberAction({}, form({ groupId: "secops", userId: bob.id, reason: REASON }))).toMatchObject({ ok: true, message: `Removed ${bob.email}.` });
    expect(await members("secops")).toEqual([alice.email]);

    const added = await db().auditEvent.findFirstOrThrow({ where: { action: "group.member.add", resourceId: alice.id } });
    expect(added).toMatchObject({ actorId: admin.id, outcome: "success", metadata: { group: "secops", email: alice.email, justification: REASON } });
    expect(await auditActions()).toEqual(["group.create:success", "group.member.add:success", "group.member.add:success", "group.member.remove:success"]);
  });

  it("bad input gets an answer by the field and changes nothing: a taken or malformed id, an unknown account, a member twice, no reason", async () => {
    signedIn = await signedInAs(["admin"]);
    await db().group.create({ data: { id: "eng", name: "Engineering" } });
    const alice = await makeUser({ email: "alice@example.test" });
    await db().groupMember.create({ data: { groupId: "eng", userId: alice.id } });

    expect(await actions.createGroupAction({}, form({ id: "eng", name: "Again" }))).toMatchObject({ ok: false, fieldErrors: { id: [expect.stringMatching(/already exists/)] } });
    expect(await actions.createGroupAction({}, form({ id: "no spaces/slashes", name: "" }))).toMatchObject({ ok: false, fieldErrors: { id: [expect.any(String)], name: [expect.any(String)] } });
    expect(await actions.createGroupAction({}, form({ id: "x".repeat(64), name: "Long" }))).toMatchObject({ ok: false, fieldErrors: { id: [expect.any(String)] } });
    expect(await actions.addMemberAction({}, form({ groupId: "eng", email: "nobody@example.test", reason: REASON }))).toMatchObject({ ok: false, fieldErrors: { email: [expect.stringMatching(/No account/)] } });
    expect(await actions.addMemberAction({}, form({ groupId: "eng", email: alice.email, reason: REASON }))).toMatchObject({ ok: false, fieldErrors: { email: [expect.stringMatching(/already/)] } });
    expect(await actions.addMemberAction({}, form({ groupId: "nope", email: alice.email, reason: REASON }))).toMatchObject({ ok: false, message: "That group does not exist." });
    expect(await actions.addMemberAction({}, form({ groupId: "eng", email: alice.email }))).toMatchObject({ ok: false, fieldErrors: { reason: [expect.any(String)] } });
    expect(await actions.removeMemberAction({}, form({ groupId: "eng", userId: "not-a-uuid", reason: REASON }))).toMatchObject({ ok: false, fieldErrors: { userId: [expect.any(String)] } });
    expect(await actions.deleteGroupAction({}, form({ groupId: "eng", confirmId: "wrong", reason: REASON }))).toMatchObject({ ok: false, fieldErrors: { confirmId: ["Type eng to confirm."] } });

    expect(await db().group.count()).toBe(1);
    expect(await members("eng")).toEqual([alice.email]);
    expect(await auditActions()).toEqual([]);
  });

  it("membership changes and deleting need a fresh second factor; naming a group does not", async () => {
    signedIn = await signedInAs(["admin"], 10);
    await db().group.create({ data: { id: "eng", name: "Engineering" } });
    const alice = await makeUser();
    await db().groupMember.create({ data: { groupId: "eng", userId: alice.id } });
    for (const answer of [
      await actions.addMemberAction({}, form({ groupId: "eng", email: (await makeUser()).email, reason: REASON })),
      await actions.removeMemberAction({}, form({ groupId: "eng", userId: alice.id, reason: REASON })),
      await actions.deleteGroupAction({}, form({ groupId: "eng", confirmId: "eng", reason: REASON })),
    ]) expect(answer).toMatchObject({ ok: false, stepUp: true });
    expect(await members("eng")).toHaveLength(1);
    expect(await actions.updateGroupAction({}, form({ groupId: "eng", name: "Platform engineering", description: "" }))).toMatchObject({ ok: true });
    expect((await db().group.findUniqueOrThrow({ where: { id: "eng" } })).name).toBe("Platform engineering");
  });

  it("a non-admin who may manage users changes only the groups they are in, on accounts they may act on; nobody changes their own", async () => {
    const admin = await signedInAs(["admin"]);
    await db().group.createMany({ data: [{ id: "helpdesk", name: "Help desk" }, { id: "secops", name: "Security operations" }, { id: "breakglass", name: "Break glass" }] });
    // A published policy lets analysts manage users (a help desk would be given this), and one lets a group in.
    await publishAs(admin, `${ANALYSTS_MANAGE_USERS}\n${BREAKGLASS_RUNS_POLICIES}`);
    const analyst = await signedInAs(["analyst"]);
    await db().groupMember.createMany({ data: [{ groupId: "helpdesk", userId: analyst.id }, { groupId: "breakglass", userId: analyst.id }] });
    signedIn = await fromSession(analyst.sessionId);
    const colleague = await makeUser({ email: "colleague@example.test" });
    const anotherAdmin = await makeUser({ email: "boss@example.test", roles: ["admin"] });

    expect(await actions.addMemberAction({}, form({ groupId: "helpdesk", email: colleague.email, reason: REASON }))).toMatchObject({ ok: true });
    expect(await actions.addMemberAction({}, form({ groupId: "secops", email: colleague.email, reason: REASON }))).toMatchObject({ ok: false, message: "Only an admin, or a member of this group, can change who is in it." });
    expect(await actions.addMemberAction({}, form({ groupId: "helpdesk", email: anotherAdmin.email, reason: REASON }))).toMatchObject({ ok: false, message: expect.stringMatching(/roles you do not hold: admin/) });
    // A group the policies name is power: even its members leave it to an admin.
    expect(await actions.addMemberAction({}, form({ groupId: "breakglass", email: colleague.email, reason: REASON }))).toMatchObject({ ok: false, message: "Only an admin changes who is in a group the policies name." });
    expect(await actions.removeMemberAction({}, form({ groupId: "helpdesk", userId: analyst.id, reason: REASON }))).toMatchObject({ ok: false, message: expect.stringMatching(/your own group memberships/) });
    expect(await actions.createGroupAction({}, form({ id: "mine", name: "Mine" }))).toMatchObject({ ok: false, message: "Only an admin makes, renames or deletes groups." });
    expect(await actions.updateGroupAction({}, form({ groupId: "secops", name: "Renamed" }))).toMatchObject({ ok: false, message: "Only an admin makes, renames or deletes groups." });
    expect(await actions.deleteGroupAction({}, form({ groupId: "secops", confirmId: "secops", reason: REASON }))).toMatchObject({ ok: false, message: "Only an admin makes, renames or deletes groups." });

    expect(await db().group.findUnique({ where: { id: "mine" } })).toBeNull();
    expect((await db().group.findUniqueOrThrow({ where: { id: "secops" } })).name).toBe("Security operations");
    expect(await members("helpdesk")).toEqual(["colleague@example.test", analyst.email].sort());
    expect(await members("secops")).toEqual([]);
    expect(await members("breakglass")).toEqual([analyst.email]);
    const blocked = await db().auditEvent.findMany({ where: { action: { startsWith: "group." }, outcome: "blocked" }, select: { action: true, metadata: true } });
    expect(blocked.map((e) => `${e.action}:${(e.metadata as { reason: string }).reason}`).sort()).toEqual([
      "group.create:admin_only", "group.delete:admin_only", "group.member.add:actor_not_in_group", "group.member.add:group_named_by_policies",
      "group.member.add:target_holds_roles_actor_lacks", "group.member.remove:own_membership", "group.update:admin_only",
    ]);

    signedIn = admin;
    expect(await actions.addMemberAction({}, form({ groupId: "secops", email: admin.email, reason: REASON }))).toMatchObject({ ok: false, message: expect.stringMatching(/your own group memberships/) });
  });

  it("members of a deny group cannot take each other out of it", async () => {
    const admin = await signedInAs(["admin"]);
    await db().group.create({ data: { id: "contractors", name: "Contractors" } });
    await publishAs(admin, `${ANALYSTS_MANAGE_USERS}\n${CONTRACTORS_KEPT_OUT_OF_INCIDENTS}`);
    const first = await signedInAs(["analyst"]);
    const second = await signedInAs(["analyst"]);
    await db().groupMember.createMany({ data: [{ groupId: "contractors", userId: first.id }, { groupId: "contractors", userId: second.id }] });
    signedIn = await fromSession(first.sessionId);
    expect(await actions.removeMemberAction({}, form({ groupId: "contractors", userId: second.id, reason: REASON }))).toMatchObject({ ok: false, message: "Only an admin changes who is in a group the policies name." });
    expect(await members("contractors")).toHaveLength(2);
  });

  it("a help desk cannot take over an account whose group the policies let in", async () => {
    const admin = await signedInAs(["admin"]);
    await db().group.create({ data: { id: "breakglass", name: "Break glass" } });
    await publishAs(admin, `${ANALYSTS_MANAGE_USERS}\n${BREAKGLASS_RUNS_POLICIES}`);
    const powerful = await makeUser({ email: "glass@example.test" });
    await db().groupMember.create({ data: { groupId: "breakglass", userId: powerful.id } });
    const helpDesk = await signedInAs(["analyst"]);
    const refusal = await actingOnRefusal(helpDesk, powerful.id, "password.temporary_set", userContext(helpDesk, null));
    expect(refusal).toBe("Only an admin can do this to an account in groups the policies name that you are not in: breakglass.");
    expect(await db().auditEvent.findFirstOrThrow({ where: { action: "password.temporary_set", outcome: "blocked" } })).toMatchObject({ metadata: { reason: "target_in_groups_actor_lacks", groups: ["breakglass"] } });
    // A plain member of a group no policy names is a help desk's to help.
    await db().group.create({ data: { id: "sales", name: "Sales" } });
    const seller = await makeUser();
    await db().groupMember.create({ data: { groupId: "sales", userId: seller.id } });
    expect(await actingOnRefusal(helpDesk, seller.id, "password.temporary_set", userContext(helpDesk, null))).toBeNull();
  });

  it("a help desk cannot take over an account the policies let do more only at some hour or from some address", async () => {
    const admin = await signedInAs(["admin"]);
    const later = (new Date().getUTCHours() + 3) % 24;
    await publishAs(admin, `${ANALYSTS_MANAGE_USERS}
@id("ceo-edits-policies-at-one-hour")
permit (principal, action, resource == Gatehouse::Console::"policies") when { principal.email == "ceo@example.test" && context.hourUtc == ${later} };
@id("cfo-edits-policies-from-the-office")
permit (principal, action, resource == Gatehouse::Console::"policies") when { principal.email == "cfo@example.test" && context.ip.isInRange(ip("192.0.2.0/24")) };
// don't let the "old office in
@id("cto-edits-policies-from-germany")
permit (principal, action, resource == Gatehouse::Console::"policies") when { principal.email == "cto@example.test" && context.country == "DE" };
@id("cio-edits-policies-from-the-eu")
permit (principal, action, resource == Gatehouse::Console::"policies") when { principal.email == "cio@example.test" && ["AT", "BE", "DE", "FR", "NL"].contains(context.country) };
@id("cso-edits-policies-in-local-office-hours")
permit (principal, action, resource == Gatehouse::Console::"policies") when { principal.email == "cso@example.test" && context.hour == ${(later + 4) % 24} };
@id("coo-edits-policies-from-d-countries")
permit (principal, action, resource == Gatehouse::Console::"policies") when { principal.email == "coo@example.test" && context.country like "D*" };`);
    const helpDesk = await signedInAs(["analyst"]);
    for (const email of ["ceo@example.test", "cfo@example.test", "cto@example.test", "coo@example.test", "cio@example.test", "cso@example.test"]) {
      // None may edit policies now from the help desk's address (none here): later, from the office or from Germany, they may.
      const account = await makeUser({ email });
      expect(await actingOnRefusal(helpDesk, account.id, "password.temporary_set", userContext(helpDesk, null))).toContain("Only an admin can do this to an account that may do what you may not: ");
      expect(await actingOnRefusal(helpDesk, account.id, "password.temporary_set", userContext(helpDesk, null))).toContain("manage policies");
    }
    // Anyone else is the help desk's to help, as before.
    expect(await actingOnRefusal(helpDesk, (await makeUser()).id, "password.temporary_set", userContext(helpDesk, null))).toBeNull();
  });

  it("a help desk kept out of something by a group cannot get there through a colleague's account", async () => {
    const admin = await signedInAs(["admin"]);
    await db().group.create({ data: { id: "contractors", name: "Contractors" } });
    await publishAs(admin, `${ANALYSTS_MANAGE_USERS}\n${CONTRACTORS_KEPT_OUT_OF_INCIDENTS}`);
    const contractor = await signedInAs(["analyst"]);
    await db().groupMember.create({ data: { groupId: "contractors", userId: contractor.id } });
    const colleague = await makeUser({ roles: ["analyst"] });
    const asContractor = await fromSession(contractor.sessionId);
    expect(await actingOnRefusal(asContractor, colleague.id, "mfa.reset", userContext(asContractor, null))).toBe("Only an admin can do this to an account that may do what you may not: view incidents, manage incidents.");
    // Another contractor can do no more than they can.
    const other = await makeUser({ roles: ["analyst"] });
    await db().groupMember.create({ data: { groupId: "contractors", userId: other.id } });
    expect(await actingOnRefusal(asContractor, other.id, "mfa.reset", userContext(asContractor, null))).toBeNull();
  });

  it("taking an admin's way to the policy editor away by role, status or deletion is refused like such a publish", async () => {
    const keeper = await signedInAs(["admin"]);
    await db().group.create({ data: { id: "policy-admins", name: "Policy admins" } });
    await db().groupMember.create({ data: { groupId: "policy-admins", userId: keeper.id } });
    await publishAs(keeper, ONLY_POLICY_ADMINS_EDIT);
    const other = await signedInAs(["admin"]);
    const ctx = userContext(other, null);
    const lockedOut = { message: expect.stringMatching(/^Refused: with this change no admin could/) };
    await expect(setRoles(keeper.id, ["user"], ctx, other)).rejects.toMatchObject(lockedOut);
    await expect(setDisabled(keeper.id, true, ctx)).rejects.toMatchObject(lockedOut);
    await expect(deleteUser(keeper.id, ctx, other)).rejects.toMatchObject(lockedOut);
    expect(await db().user.findUniqueOrThrow({ where: { id: keeper.id } })).toMatchObject({ roles: ["user", "admin"], disabledAt: null });
    // The other admin is no keeper: demoting them changes nothing for the way back.
    const keeperNow = await fromSession(keeper.sessionId); // as a request of theirs finds them now, in the group
    expect(await setRoles(other.id, ["user"], userContext(keeperNow, null), keeperNow)).toEqual(["user"]);
  });

  it("a membership change on an admin's authority is refused when that authority was taken away while it waited", async () => {
    const [first, second] = [await signedInAs(["admin"]), await signedInAs(["admin"])];
    const member = await makeUser();
    await db().group.create({ data: { id: "oncall", name: "On call", members: { create: { userId: member.id } } } });
    await setRoles(second.id, ["user"], userContext(first, null), first);
    expect(await removeMember("oncall", member.id, second, userContext(second, null))).toMatchObject({ ok: false, message: expect.stringContaining("Your own access changed") });
    expect(await members("oncall")).toEqual([member.email]);
    expect(await db().auditEvent.findFirstOrThrow({ where: { action: "group.member.remove", outcome: "blocked" } })).toMatchObject({ metadata: { reason: "actor_changed" } });
  });

  it("two admins taking the last two keepers out at once: one is refused", async () => {
    const [first, second] = [await signedInAs(["admin"]), await signedInAs(["admin"])];
    await db().group.create({ data: { id: "policy-admins", name: "Policy admins" } });
    await db().groupMember.createMany({ data: [{ groupId: "policy-admins", userId: first.id }, { groupId: "policy-admins", userId: second.id }] });
    await publishAs(first, ONLY_POLICY_ADMINS_EDIT);
    const third = await signedInAs(["admin"]);
    const answers = await Promise.all([first, second].map((keeper) => removeMember("policy-admins", keeper.id, third, userContext(third, null))));
    expect(answers.filter((a) => a.ok)).toHaveLength(1);
    expect(answers.filter((a) => !a.ok)).toEqual([{ ok: false, message: expect.stringMatching(/^Refused: with this change no admin could/) }]);
    expect(await db().auditEvent.findFirstOrThrow({ where: { action: "group.member.remove", outcome: "blocked" } })).toMatchObject({ metadata: { reason: "lockout_guard", group: "policy-admins" } });
    expect(await members("policy-admins")).toHaveLength(1);
  });

  it("a membership change that would shut every admin out of the policy editor is refused, like such a publish", async () => {
    const keeper = await signedInAs(["admin"]);
    await db().group.create({ data: { id: "policy-admins", name: "Policy admins" } });
    await db().groupMember.create({ data: { groupId: "policy-admins", userId: keeper.id } });
    await publishAs(keeper, ONLY_POLICY_ADMINS_EDIT);
    signedIn = await signedInAs(["admin"]);
    expect(await actions.removeMemberAction({}, form({ groupId: "policy-admins", userId: keeper.id, reason: REASON }))).toMatchObject({ ok: false, message: expect.stringMatching(/^Refused: with this change no admin could/) });
    expect(await actions.deleteGroupAction({}, form({ groupId: "policy-admins", confirmId: "policy-admins", reason: REASON }))).toMatchObject({ ok: false, message: expect.stringMatching(/^Refused: with this change no admin could/) });
    expect(await members("policy-admins")).toEqual([keeper.email]);
    // Adding a second keeper is fine, and then the first may go.
    expect(await actions.addMemberAction({}, form({ groupId: "policy-admins", email: (await makeUser({ roles: ["admin"] })).email, reason: REASON }))).toMatchObject({ ok: true });
    expect(await actions.removeMemberAction({}, form({ groupId: "policy-admins", userId: keeper.id, reason: REASON }))).toMatchObject({ ok: true });
  });

  it("are refused to a role without the users section, and to no one signed in", async () => {
    await db().group.create({ data: { id: "eng", name: "Engineering" } });
    const target = await makeUser();
    const auditor = await signedInAs(["auditor"]);
    // In the group, so that only the section check stands in the way.
    await db().groupMember.create({ data: { groupId: "eng", userId: auditor.id } });
    signedIn = await fromSession(auditor.sessionId);
    expect(await actions.addMemberAction({}, form({ groupId: "eng", email: target.email, reason: REASON }))).toEqual({ ok: false, message: "The access policies do not allow you to do this." });
    signedIn = null;
    expect(await actions.addMemberAction({}, form({ groupId: "eng", email: target.email, reason: REASON }))).toEqual({ ok: false, message: "Your session has ended. Sign in again." });
    expect(await members("eng")).toEqual([auditor.email]);
  });

  it("deleting a group takes its members out, and a group made again under its id starts empty", async () => {
    signedIn = await signedInAs(["admin"]);
    await db().group.create({ data: { id: "contractors", name: "Contractors" } });
    const alice = await makeUser({ email: "alice@example.test" });
    await db().groupMember.create({ data: { groupId: "contractors", userId: alice.id } });
    expect(await redirectOf(actions.deleteGroupAction({}, form({ groupId: "contractors", confirmId: "contractors", reason: REASON })))).toBe("/admin/groups");
    expect(await db().auditEvent.findFirstOrThrow({ where: { action: "group.delete" } })).toMatchObject({ metadata: { members: [alice.email], justification: REASON } });
    await redirectOf(actions.createGroupAction({}, form({ id: "contractors", name: "Contractors" })));
    expect(await members("contractors")).toEqual([]);
  });
});

describe("groups in the policies", () => {
  it("a policy naming a group lets its members in at their next request, and removal takes it back", async () => {
    const admin = await signedInAs(["admin"]);
    await db().group.create({ data: { id: "secops", name: "Security operations" } });
    const text = `@id("secops-reads-audit")\npermit (principal in Gatehouse::Group::"secops", action == Gatehouse::Action::"view", resource == Gatehouse::Console::"audit");`;
    await publishAs(admin, text);
    const member = await signedInAs(["user"]);
    const mayReadAudit = async () => consoleAllows(policySubject(await fromSession(member.sessionId), null), "audit", "view");

    expect(await mayReadAudit()).toBe(false);
    await db().groupMember.create({ data: { groupId: "secops", userId: member.id } });
    expect(await mayReadAudit()).toBe(true);
    await db().groupMember.delete({ where: { groupId_userId: { groupId: "secops", userId: member.id } } });
    expect(await mayReadAudit()).toBe(false);
  });

  it("the lockout guard judges each admin with their groups", async () => {
    const contractor = await signedInAs(["admin"]);
    await db().group.create({ data: { id: "contractors", name: "Contractors" } });
    await db().groupMember.create({ data: { groupId: "contractors", userId: contractor.id } });
    const text = `@id("no-contractors-in-policies")\nforbid (principal in Gatehouse::Group::"contractors", action, resource == Gatehouse::Console::"policies");`;
    const publish = async () => publishPolicies(`${DEFAULT_POLICIES}\n${text}`, "contractors out", policySubject(contractor, null), listActiveAdmins, userContext(contractor, null));
    // The only admin is a contractor: nobody could undo it.
    expect(await publish()).toMatchObject({ ok: false, message: expect.stringMatching(/^Refused: with these policies no admin could/) });
    // An admin with the same roles but not in the group keeps the way back.
    await makeUser({ roles: ["admin"] });
    expect(await publish()).toMatchObject({ ok: true });
  });

  it("a group's page names the policies in force that name it, in their scope or their conditions", async () => {
    const admin = await signedInAs(["admin"]);
    await db().group.createMany({ data: [{ id: "secops", name: "Security operations" }, { id: "contractors", name: "Contractors" }, { id: "sales", name: "Sales" }] });
    const text = `@id("secops-reads-audit")\npermit (principal in Gatehouse::Group::"secops", action == Gatehouse::Action::"view", resource == Gatehouse::Console::"audit");\n@id("no-contractors")\nforbid (principal, action, resource) when { principal in Gatehouse::Group::"contractors" };`;
    await publishAs(admin, text);
    expect((await findGroup("secops"))!.namedBy).toEqual(["secops-reads-audit"]);
    expect((await findGroup("contractors"))!.namedBy).toEqual(["no-contractors"]);
    expect((await findGroup("sales"))!.namedBy).toEqual([]);
  });
});

