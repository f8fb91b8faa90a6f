import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { endAllSessions, endSession, findActiveSession, findSessionForCookie, listActiveSessions } from "@/lib/auth/sessions";
import { EmailTakenError, LastAdminError, NoSuchUserError, RoleGrantError, changeEmail, changePassword, createUser, deleteUser, listUsers, resetUserMfa, setDisabled, setRoles, setTemporaryPassword, updateName, userListFiltersSchema, USERS_PAGE_SIZE } from "@/lib/auth/users";
import { userContext } from "@/lib/audit/context";
import { liftSignInLock, lockAccountName, signInLockedUntil } from "@/lib/auth/throttle";
import { resetDatabase } from "../support/db";
import { TEST_PASSWORD, client, ctx, makeUser, uniqueEmail } from "../support/factories";
import { enrollTotp, withPasskey } from "../support/mfa";

beforeEach(resetDatabase);

async function signedIn(email: string) {
  const result = await signInWithPassword({ email, password: TEST_PASSWORD }, client(), null);
  if (!result.ok) throw new Error("sign-in failed");
  return result.sessionId;
}

describe("sessions", () => {
  it("a user cannot end another user's session by its id", async () => {
    const alice = await makeUser();
    const mallory = await makeUser();
    const aliceSession = await signedIn(alice.email);
    expect(await endSession(mallory.id, aliceSession, "revoked_by_user", ctx)).toBe(false);
    expect(await findActiveSession(aliceSession)).not.toBeNull();
    expect(await endSession(alice.id, aliceSession, "revoked_by_user", ctx)).toBe(true);
    expect(await findActiveSession(aliceSession)).toBeNull();
  });

  it("ends all other sessions and keeps the caller's", async () => {
    const user = await makeUser();
    const [a, b, c] = [await signedIn(user.email), await signedIn(user.email), await signedIn(user.email)];
    expect(await endAllSessions(user.id, "revoked_by_user", ctx, a)).toBe(2);
    expect((await listActiveSessions(user.id)).map((s) => s.id)).toEqual([a]);
    expect(await findActiveSession(b)).toBeNull();
    expect(await findActiveSession(c)).toBeNull();
  });

  it("an expired session is not active", async () => {
    const user = await makeUser();
    const id = await signedIn(user.email);
    expect(await findActiveSession(id, new Date(Date.now() + 365 * 86_400_000))).toBeNull();
  });

  it("a session unused for longer than the idle limit ends: refused, no longer listed, audited; one in use stays", async () => {
    const user = await makeUser();
    const [idle, used] = [await signedIn(user.email), await signedIn(user.email)];
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    // Used 50 minutes in: the default limit (60) counts from then.
    expect(await findActiveSession(used, minutes(50))).not.toBeNull();
    expect((await listActiveSessions(user.id, minutes(61))).map((s) => s.id)).toEqual([used]);
    expect((await listUsers({ q: user.email })).users[0]?.activeSessions).toBe(2);

    expect(await findActiveSession(idle, minutes(61))).toBeNull();
    const ended = await db().session.findUniqueOrThrow({ where: { id: idle } });
    expect(ended.endReason).toBe("idle_timeout");
    // Dated when it went idle, not when it was next tried.
    expect(ended.endedAt!.getTime() - ended.lastSeenAt.getTime()).toBe(60 * 60_000);
    expect(await db().auditEvent.count({ where: { action: "session.idle_timeout", resourceId: idle } })).toBe(1);
    expect(await findActiveSession(used, minutes(100))).not.toBeNull();
  });

  it("with GATEHOUSE_SESSION_IDLE_MINUTES=0 a session ends only at the end of its lifetime", async () => {
    process.env.GATEHOUSE_SESSION_IDLE_MINUTES = "0";
    try {
      const user = await makeUser();
      const id = await signedIn(user.email);
      expect(await findActiveSession(id, new Date(Date.now() + 11 * 3_600_000))).not.toBeNull();
      expect(await findActiveSession(id, new Date(Date.now() + 13 * 3_600_000))).toBeNull();
    } finally {
      delete process.env.GATEHOUSE_SESSION_IDLE_MINUTES;
    }
  });

  it("disabling a user ends their sessions", async () => {
    await makeUser({ roles: ["admin"] });
    const user = await makeUser();
    const id = await signedIn(user.email);
    await setDisabled(user.id, true, ctx);
    expect(await findActiveSession(id)).toBeNull();
  });
});

describe("password change", () => {
  it("needs the current password and signs out the other sessions", async () => {
    const user = await makeUser();
    const mine = await signedIn(user.email);
    const other = await signedIn(user.email);
    const me = { id: user.id, email: user.email, sessionId: mine };
    expect(await changePassword(me, "wrong", "a brand new passphrase", ctx)).toEqual({ ok: false, reason: "wrong_password" });
    expect(await changePassword(me, TEST_PASSWORD, "a brand new passphrase", ctx)).toEqual({ ok: true, endedSessions: 1 });
    expect(await findActiveSession(mine)).not.toBeNull();
    expect(await findActiveSession(other)).toBeNull();
    expect((await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).ok).toBe(false);
    expect((await signInWithPassword({ email: user.email, password: "a brand new passphrase" }, client(), null)).ok).toBe(true);
  });

  it("gives a session five password guesses of its own, then signs it out", async () => {
    const user = await makeUser();
    const me = { id: user.id, email: user.email, sessionId: await signedIn(user.email) };
    for (let i = 0; i < 4; i++) expect(await changePassword(me, `guess ${i}`, "a brand new passphrase", ctx)).toEqual({ ok: false, reason: "wrong_password" });
    expect(await changePassword(me, "guess 4", "a brand new passphrase", ctx)).toMatchObject({ ok: false, reason: "too_many_tries", signedOut: true });
    expect(await findActiveSession(me.sessionId)).toBeNull();
    // The ended session's tries stay spent: the right password there waits too.
    expect(await changePassword(me, TEST_PASSWORD, "a brand new passphrase", ctx)).toMatchObject({ ok: false, reason: "too_many_tries", signedOut: false });
    expect(await db().auditEvent.count({ where: { action: "account.lockout", resourceId: user.id } })).toBe(1);
  });

  it("a stranger's wrong passwords for the email neither stop the signed-in owner from changing it nor bring their session closer to its end", async () => {
    const user = await makeUser();
    const me = { id: user.id, email: user.email, sessionId: await signedIn(user.email) };
    // Four wrong passwords at sign-in from a browser the account never used, then a fifth: the email is locked for sign-in.
    for (let i = 0; i < 5; i++) expect((await signInWithPassword({ email: user.email, password: `stranger ${i}` }, client("203.0.113.66"), null)).ok).toBe(false);
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client("203.0.113.66"), null)).toMatchObject({ ok: false, reason: "throttled" });
    // The owner's typo in their session is one of their session's own tries, not the last of the email's.
    expect(await changePassword(me, "an owner's typo", "a brand new passphrase", ctx)).toEqual({ ok: false, reason: "wrong_password" });
    expect(await findActiveSession(me.sessionId)).not.toBeNull();
    expect(await changePassword(me, TEST_PASSWORD, "a brand new passphrase", ctx)).toEqual({ ok: true, endedSessions: 0 });
  });

  it("disconnects every app only when asked, and leaves other users' apps alone", async () => {
    const user = await makeUser();
    const neighbour = await makeUser();
    const mine = await signedIn(user.email);
    const connect = async (userId: string, clientId: string) => {
      const grantId = `grant-${userId}-${clientId}`;
      await db().oAuthConsent.create({ data: { userId, clientId, grantId, scopes: ["openid"] } });
      await db().oidcModel.create({ data: { kind: "Grant", id: grantId, grantId, payload: { accountId: userId, clientId }, accountId: userId, clientId } });
    };
    const appsOf = async (userId: string) => ({
      consents: await db().oAuthConsent.count({ where: { userId } }),
      grants: await db().oidcModel.count({ where: { kind: "Grant", payload: { path: ["accountId"], equals: userId } } }),
    });
    await connect(user.id, "app-one");
    await connect(user.id, "app-two");
    await connect(neighbour.id, "app-one");

    const me = { id: user.id, email: user.email, sessionId: mine };
    await changePassword(me, TEST_PASSWORD, "first new passphrase", ctx);
    expect(await appsOf(user.id)).toEqual({ consents: 2, grants: 2 });

    expect(await changePassword(me, "first new passphrase", "second new passphrase", ctx, { disconnectApps: true })).toMatchObject({ ok: true });
    expect(await appsOf(user.id)).toEqual({ consents: 0, grants: 0 });
    expect(await appsOf(neighbour.id)).toEqual({ consents: 1, grants: 1 });
    expect(await db().auditEvent.count({ where: { action: "oauth.user_grants.revoke", resourceId: user.id } })).toBe(1);
  });
});

describe("user administration", () => {
  it("refuses a second account with the same email, whatever its case", async () => {
    const user = await makeUser();
    await expect(makeUser({ email: user.email })).rejects.toBeInstanceOf(EmailTakenError);
  });

  it("never leaves Gatehouse without an active admin", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    await expect(setRoles(admin.id, ["user"], ctx, null)).rejects.toBeInstanceOf(LastAdminError);
    await expect(setDisabled(admin.id, true, ctx)).rejects.toBeInstanceOf(LastAdminError);
    const second = await makeUser({ roles: ["admin"] });
    await setRoles(admin.id, ["user", "auditor"], ctx, null);
    await expect(setRoles(second.id, ["user"], ctx, null)).rejects.toBeInstanceOf(LastAdminError);
  });

  it("giving a role that requires a second factor to an account without one ends its sessions; with a factor they stay", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const signedIn = async (user: { email: string }) => {
      const result = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
      if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
      return result.sessionId;
    };
    const plain = await makeUser();
    const plainSession = await signedIn(plain);
    expect(await findActiveSession(plainSession)).not.toBeNull();
    await setRoles(plain.id, ["user", "admin"], ctx, admin);
    // The password-only session would have held the admin role without ever showing a factor.
    expect(await findActiveSession(plainSession)).toBeNull();
    expect(await db().session.findUniqueOrThrow({ where: { id: plainSession } })).toMatchObject({ endReason: "second_factor_now_required" });
    expect(await db().auditEvent.findFirst({ where: { action: "session.revoke_all", resourceId: plain.id } })).toMatchObject({ metadata: { reason: "second_factor_now_required", sessionsEnded: 1 } });
    // Its next sign-in must enrol a factor first.
    const again = await signedIn(plain);
    expect(await db().session.findUniqueOrThrow({ where: { id: again } })).toMatchObject({ stage: "enrollment_required" });

    // A role that requires nothing, or an account that has a factor: the sessions stay.
    const analyst = await makeUser();
    const analystSession = await signedIn(analyst);
    await setRoles(analyst.id, ["user", "analyst"], ctx, admin);
    expect(await findActiveSession(analystSession)).not.toBeNull();
    const withFactor = await makeUser();
    await enrollTotp(withFactor);
    const factorSession = await db().session.create({ data: { userId: withFactor.id, expiresAt: new Date(Date.now() + 3_600_000) } });
    await setRoles(withFactor.id, ["user", "admin"], ctx, admin);
    expect(await db().session.findUniqueOrThrow({ where: { id: factorSession.id } })).toMatchObject({ endedAt: null });
  });

  it("nobody grants a role they do not hold, or changes their own roles", async () => {
    const helpdesk = await makeUser({ roles: ["analyst"] });
    const admin = await makeUser({ roles: ["admin"] });
    const target = await makeUser();
    await expect(setRoles(target.id, ["user", "admin"], ctx, helpdesk)).rejects.toThrow("You cannot grant a role you do not hold: admin.");
    await expect(setRoles(helpdesk.id, ["user", "analyst", "admin"], ctx, helpdesk)).rejects.toThrow("You cannot change your own roles");
    await expect(createUser({ email: uniqueEmail("minted"), name: "Minted", password: TEST_PASSWORD, roles: ["admin"] }, ctx, helpdesk)).rejects.toBeInstanceOf(RoleGrantError);
    expect(await db().user.findUniqueOrThrow({ where: { id: target.id }, select: { roles: true } })).toEqual({ roles: ["user"] });
    // A role the granter holds, and taking away one they do not, are fine; an admin grants any.
    expect(await setRoles(target.id, ["user", "analyst"], ctx, helpdesk)).toEqual(["user", "analyst"]);
    expect(await setRoles(target.id, ["user"], ctx, helpdesk)).toEqual(["user"]);
    expect(await setRoles(target.id, ["user", "analyst", "auditor"], ctx, admin)).toEqual(["user", "analyst", "auditor"]);
    // An account holding a role the help desk lacks is an admin's to change.
    await expect(setRoles(target.id, ["user"], ctx, helpdesk)).rejects.toThrow("Only an admin can do this to an account with roles you do not hold: auditor.");
    expect(await setRoles(target.id, ["user", "admin"], ctx, admin)).toEqual(["user", "admin"]);
    await expect(setRoles(admin.id, ["user", "admin", "auditor"], ctx, admin)).rejects.toBeInstanceOf(RoleGrantError);
  });

  it("refuses changes to a user that does not exist, with a reason and no audit event", async () => {
    const nobody = "6f1c0d4e-0000-4000-8000-000000000000";
    await expect(setRoles(nobody, ["user", "admin"], ctx, null)).rejects.toBeInstanceOf(NoSuchUserError);
    await expect(setDisabled(nobody, true, ctx)).rejects.toBeInstanceOf(NoSuchUserError);
    await expect(resetUserMfa(nobody, "Lost phone, identity checked on a call", ctx)).rejects.toBeInstanceOf(NoSuchUserError);
    expect(await db().auditEvent.count({ where: { resourceId: nobody } })).toBe(0);
  });

  it("two admins demoting each other at once cannot both succeed", async () => {
    const a = await makeUser({ roles: ["admin"] });
    const b = await makeUser({ roles: ["admin"] });
    const results = await Promise.allSettled([setRoles(a.id, ["user"], ctx, null), setRoles(b.id, ["user"], ctx, null)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    // The other is run again after the conflict, and then refused for what it is: the last admin.
    expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason)).toEqual([expect.any(LastAdminError)]);
  });

  it("an admin changes a user's sign-in email: the new one signs in, the old one does not, recovery links sent before stop working", async () => {
    const user = await makeUser();
    const other = await makeUser();
    await expect(changeEmail(user.id, other.email, ctx)).rejects.toBeInstanceOf(EmailTakenError);
    await db().passwordResetToken.create({ data: { userId: user.id, tokenHash: "h".repeat(64), expiresAt: new Date(Date.now() + 3_600_000) } });
    const renamed = uniqueEmail("renamed");
    // A lock on the account (an incident's) goes with it: the change lifts nothing.
    const until = new Date(Date.now() + 3_600_000);
    await lockAccountName(user.email, until);
    expect(await changeEmail(user.id, renamed, ctx)).toBe(true);
    expect((await signInLockedUntil(renamed))?.getTime()).toBe(until.getTime());
    expect(await signInLockedUntil(user.email)).toBeNull();
    await liftSignInLock(renamed);
    expect(await changeEmail(user.id, renamed, ctx)).toBe(false);
    expect(await db().passwordResetToken.count({ where: { userId: user.id } })).toBe(0);
    expect((await signInWithPassword({ email: renamed, password: TEST_PASSWORD }, client(), null)).ok).toBe(true);
    expect((await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).ok).toBe(false);
    expect(await db().auditEvent.findFirst({ where: { action: "user.email.change", resourceId: user.id } })).toMatchObject({ metadata: { before: user.email, after: renamed } });
  });

  it("an admin deletes an account with everything it holds; never their own, the last admin, or one holding a role they lack", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const user = await makeUser();
    await signedIn(user.email);
    await enrollTotp(user);
    await db().oidcModel.create({ data: { kind: "Grant", id: "g-deleted", payload: { accountId: user.id, clientId: "app" }, accountId: user.id, clientId: "app" } });
    await db().group.create({ data: { id: "contractors", name: "Contractors", members: { create: { userId: user.id } } } });
    expect(await deleteUser(user.id, ctx, admin)).toEqual({ email: user.email });
    expect(await db().user.count({ where: { id: user.id } })).toBe(0);
    expect(await db().session.count({ where: { userId: user.id } })).toBe(0);
    expect(await db().totpFactor.count({ where: { userId: user.id } })).toBe(0);
    expect(await db().oidcModel.count({ where: { accountId: user.id } })).toBe(0);
    // The memberships go with the account (a cascade): the record keeps them.
    expect(await db().auditEvent.findFirst({ where: { action: "user.delete", resourceId: user.id } })).toMatchObject({ metadata: expect.objectContaining({ email: user.email, groups: ["contractors"] }) });
    await expect(deleteUser(user.id, ctx, admin)).rejects.toBeInstanceOf(NoSuchUserError);

    await expect(deleteUser(admin.id, userContext(admin, null), admin)).rejects.toBeInstanceOf(RoleGrantError);
    await expect(setDisabled(admin.id, true, userContext(admin, null))).rejects.toBeInstanceOf(RoleGrantError);
    // Refusals on one's own account are on the record, as any other.
    expect((await db().auditEvent.findMany({ where: { resourceId: admin.id, outcome: "blocked" }, orderBy: { seq: "asc" } })).map((e) => [e.action, e.actorId]))
      .toEqual([["user.delete", admin.id], ["user.disable", admin.id]]);
    const analyst = await makeUser({ roles: ["analyst"] });
    await expect(deleteUser(admin.id, ctx, analyst)).rejects.toBeInstanceOf(RoleGrantError);
    // An admin disabled (or demoted) while their request waited acts no more.
    const second = await makeUser({ roles: ["admin"] });
    await setDisabled(second.id, true, ctx);
    await expect(deleteUser(admin.id, ctx, second)).rejects.toThrow("Your own access changed while this was being done");
    expect(await db().user.count({ where: { id: admin.id } })).toBe(1);
  });

  it("a change made on an admin's authority is refused when that authority was taken away while it waited", async () => {
    const [first, second] = [await makeUser({ roles: ["admin"] }), await makeUser({ roles: ["admin"] })];
    const target = await makeUser();
    // The second admin's request was let in before the first demoted them; it reaches the lock after.
    await setRoles(second.id, ["user"], userContext(first, null), first);
    const refused = "Your own access changed while this was being done, so nothing was changed: reload the page.";
    await expect(setRoles(target.id, ["user", "admin"], userContext(second, null), second)).rejects.toThrow(refused);
    await expect(setRoles(first.id, ["user"], userContext(second, null), second)).rejects.toThrow(refused);
    await expect(setDisabled(target.id, true, userContext(second, null), second)).rejects.toThrow(refused);
    await expect(changeEmail(target.id, uniqueEmail("moved"), userContext(second, null), second)).rejects.toThrow(refused);
    const minted = uniqueEmail("minted");
    await expect(createUser({ email: minted, name: "Minted", password: TEST_PASSWORD, roles: ["user", "admin"] }, userContext(second, null), second)).rejects.toThrow(refused);
    await expect(setTemporaryPassword(target.id, "a password the demoted admin chose", userContext(second, null), second)).rejects.toThrow(refused);
    await expect(resetUserMfa(target.id, "says they lost their phone", userContext(second, null), second)).rejects.toThrow(refused);
    expect(await db().user.count({ where: { email: minted } })).toBe(0);
    expect(await db().user.findUniqueOrThrow({ where: { id: target.id } })).toMatchObject({ roles: ["user"], disabledAt: null, email: target.email, passwordResetRequiredAt: null });
    expect((await db().user.findUniqueOrThrow({ where: { id: first.id } })).roles).toContain("admin");
    expect(await db().auditEvent.count({ where: { actorId: second.id, outcome: "blocked" } })).toBe(7);
  });

  it("a help desk's change is judged on the account as it is when the change is made: one made an admin meanwhile is refused", async () => {
    const admin = await makeUser({ roles: ["admin"] });
    const helpdesk = await makeUser({ roles: ["analyst"] });
    const target = await makeUser();
    const asHelpdesk = userContext(helpdesk, null);
    // The help desk's request was let in while the target was a plain user; an admin promoted it before the change landed.
    await setRoles(target.id, ["user", "admin"], userContext(admin, null), admin);
    const refused = "Only an admin can do this to an account with roles you do not hold: admin.";
    await expect(setTemporaryPassword(target.id, "a password the help desk chose", asHelpdesk, helpdesk)).rejects.toThrow(refused);
    await expect(resetUserMfa(target.id, "says they lost their phone", asHelpdesk, helpdesk)).rejects.toThrow(refused);
    await expect(setRoles(target.id, ["user"], asHelpdesk, helpdesk)).rejects.toThrow(refused);
    await expect(setDisabled(target.id, true, asHelpdesk, helpdesk)).rejects.toThrow(refused);
    await expect(changeEmail(target.id, uniqueEmail("taken"), asHelpdesk, helpdesk)).rejects.toThrow(refused);
    await expect(deleteUser(target.id, asHelpdesk, helpdesk)).rejects.toThrow(refused);
    expect(await db().user.findUniqueOrThrow({ where: { id: target.id } })).toMatchObject({ roles: ["user", "admin"], disabledAt: null, email: target.email, passwordResetRequiredAt: null });
    expect((await signInWithPassword({ email: target.email, password: TEST_PASSWORD }, client(), null)).ok).toBe(true);
    expect(await db().auditEvent.count({ where: { actorId: helpdesk.id, resourceId: target.id, outcome: "blocked" } })).toBe(6);
  });

  it("nobody changes their own sign-in email (policies may trust an address), and a request made before one's email changed acts no more", async () => {
    const [admin, other] = [await makeUser({ roles: ["admin"] }), await makeUser({ roles: ["admin"] })];
    await expect(changeEmail(admin.id, uniqueEmail("escaped"), userContext(admin, null), admin)).rejects.toThrow("You cannot change your own sign-in email");
    expect((await db().user.findUniqueOrThrow({ where: { id: admin.id } })).email).toBe(admin.email);
    expect(await db().auditEvent.findFirst({ where: { action: "user.email.change", resourceId: admin.id } })).toMatchObject({ outcome: "blocked", actorId: admin.id });
    // Another admin changes it; the first admin's request let in before that is refused.
    await changeEmail(admin.id, uniqueEmail("renamed"), userContext(other, null), other);
    const target = await makeUser();
    await expect(setDisabled(target.id, true, userContext(admin, null), admin)).rejects.toThrow("Your own access changed while this was being done");
    expect((await db().user.findUniqueOrThrow({ where: { id: target.id } })).disabledAt).toBeNull();
  });

  it("searches by email or name and pages", async () => {
    for (let i = 0; i < USERS_PAGE_SIZE + 3; i++) await makeUser({ email: `page-${String(i).padStart(2, "0")}@example.test` });
    await makeUser({ email: "needle@example.test" });
    const first = await listUsers({});
    expect(first.total).toBe(USERS_PAGE_SIZE + 4);
    expect(first.users).toHaveLength(USERS_PAGE_SIZE);
    expect(first.pageCount).toBe(2);
    expect((await listUsers({ page: 2 })).users).toHaveLength(4);
    // A page past the last shows the last, and says so.
    expect(await listUsers({ page: 50 })).toMatchObject({ page: 2, pageCount: 2, users: expect.objectContaining({ length: 4 }) });
    const found = await listUsers({ q: "NEEDLE" });
    expect(found.users.map((u) => u.email)).toEqual(["needle@example.test"]);
  });
});

describe("the user list's filters", () => {
  it("finds accounts by role, status, second factor and group, together with the search, and says which factors each has", async () => {
    const adminWithTotp = await makeUser({ email: "admin-totp@example.test", roles: ["admin"] });
    await enrollTotp(adminWithTotp);
    await makeUser({ email: "admin-bare@example.test", roles: ["admin"] });
    const analyst = await makeUser({ email: "analyst-key@example.test", roles: ["analyst"] });
    await withPasskey(analyst.id);
    const leaver = await makeUser({ email: "leaver-bare@example.test" });
    await setDisabled(leaver.id, true, ctx);
    const emails = async (query: Parameters<typeof listUsers>[0]) => (await listUsers(query)).users.map((u) => u.email).sort();

    expect(await emails({ role: "admin", secondFactor: "without" })).toEqual(["admin-bare@example.test"]);
    expect(await emails({ secondFactor: "with" })).toEqual(["admin-totp@example.test", "analyst-key@example.test"]);
    expect(await emails({ status: "disabled" })).toEqual(["leaver-bare@example.test"]);
    expect(await emails({ status: "active", q: "BARE" })).toEqual(["admin-bare@example.test"]);
    expect((await listUsers({ role: "analyst" })).users[0]?.secondFactors).toEqual({ totp: false, passkeys: 1 });
    await db().group.create({ data: { id: "secops", name: "Security operations" } });
    await db().groupMember.createMany({ data: [{ groupId: "secops", userId: analyst.id }, { groupId: "secops", userId: adminWithTotp.id }] });
    expect(await emails({ group: "secops" })).toEqual(["admin-totp@example.test", "analyst-key@example.test"]);
    expect(await emails({ group: "secops", role: "analyst" })).toEqual(["analyst-key@example.test"]);
    expect(await emails({ group: "nobody-here" })).toEqual([]);
    // What the query string brings is checked: nonsense is ignored, not an error.
    expect(userListFiltersSchema.parse({ role: "root", status: ["active", "disabled"], secondFactor: "maybe", group: ["a", "b"], page: "-1" })).toEqual({});
    expect(userListFiltersSchema.parse({ group: "a\u0000", q: "a\u0000" })).toEqual({});
  });
});

describe("single logout from the OpenID provider", () => {
  it("ends the session named in the browser's cookie, and ignores a forged cookie", async () => {
    const { encode } = await import("next-auth/jwt");
    const { endPortalSessionFromCookie } = await import("@/lib/auth/portal-session");
    const user = await makeUser();
    const sessionId = await signedIn(user.email);
    const other = await signedIn(user.email);
    const forged = await encode({ token: { sid: sessionId, uid: user.id }, secret: "not-the-secret-not-the-secret-0123456789", salt: "authjs.session-token" });
    expect(await endPortalSessionFromCookie((name) => (name === "authjs.session-token" ? forged : undefined), user.id, client())).toBe(false);
    expect(await endPortalSessionFromCookie(() => "garbage", user.id, client())).toBe(false);
    expect(await findActiveSession(sessionId)).not.toBeNull();

    const real = await encode({ token: { sid: sessionId, uid: user.id }, secret: process.env.AUTH_SECRET!, salt: "authjs.session-token" });
    // Another account's logout leaves this browser's portal session alone.
    expect(await endPortalSessionFromCookie((name) => (name === "authjs.session-token" ? real : undefined), "another-account", client())).toBe(false);
    expect(await findActiveSession(sessionId)).not.toBeNull();
    expect(await endPortalSessionFromCookie((name) => (name === "authjs.session-token" ? real : undefined), user.id, client())).toBe(true);
    expect(await findActiveSession(sessionId)).toBeNull();
    // The user's other browsers stay signed in.
    expect(await findActiveSession(other)).not.toBeNull();
  });
});

describe("an admin's recovery steps take the apps' access back too", () => {
  // An app let in from a session that has since been signed out keeps refreshing its tokens: ending
  // sessions alone does not reach it, so each recovery step revokes the account's grants itself.
  async function appGrantOf(userId: string) {
    await db().oAuthConsent.create({ data: { userId, clientId: "mail-app", grantId: `grant-${userId}`, scopes: ["openid", "offline_access"] } });
    await db().oidcModel.create({ data: { kind: "Grant", id: `grant-${userId}`, payload: { accountId: userId, clientId: "mail-app" }, accountId: userId, clientId: "mail-app" } });
    await db().oidcModel.create({ data: { kind: "RefreshToken", id: `refresh-${userId}`, payload: { accountId: userId, clientId: "mail-app" }, accountId: userId, clientId: "mail-app", grantId: `grant-${userId}` } });
  }
  const appRecords = (userId: string) => db().oidcModel.count({ where: { accountId: userId } });

  it("disabling, resetting MFA and setting a temporary password each revoke the grants; the device trust goes with a temporary password", async () => {
    await makeUser({ roles: ["admin"] });
    for (const step of ["disable", "mfa", "password"] as const) {
      const user = await makeUser();
      const sessionId = await signedIn(user.email);
      await appGrantOf(user.id);
      await db().device.create({ data: { userId: user.id, tokenHash: `device-${user.id}`, label: "Laptop", trustedUntil: new Date(Date.now() + 86_400_000) } });
      await endSession(user.id, sessionId, "sign_out", ctx);
      if (step === "disable") await setDisabled(user.id, true, ctx);
      if (step === "mfa") await resetUserMfa(user.id, "lost phone", ctx);
      if (step === "password") await setTemporaryPassword(user.id, "a temporary passphrase for the user", ctx);
      expect(await appRecords(user.id), step).toBe(0);
      expect(await db().oAuthConsent.count({ where: { userId: user.id } }), step).toBe(0);
      expect(await db().auditEvent.count({ where: { action: "oauth.user_grants.revoke", resourceId: user.id } }), step).toBe(1);
      if (step !== "disable") expect(await db().device.count({ where: { userId: user.id, trustedUntil: { not: null } } }), step).toBe(0);
    }
  });
});

describe("disabling and enabling", () => {
  it("an account already so is left as it is: no event, and the time it was first disabled is kept", async () => {
    await makeUser({ roles: ["admin"] });
    const user = await makeUser();
    await setDisabled(user.id, false, ctx);
    expect(await db().auditEvent.count({ where: { action: "user.enable", resourceId: user.id } })).toBe(0);
    await setDisabled(user.id, true, ctx);
    const first = (await db().user.findUniqueOrThrow({ where: { id: user.id } })).disabledAt;
    await setDisabled(user.id, true, ctx);
    expect((await db().user.findUniqueOrThrow({ where: { id: user.id } })).disabledAt).toEqual(first);
    expect(await db().auditEvent.count({ where: { action: "user.disable", resourceId: user.id } })).toBe(1);
  });
});

describe("the session cookie across the MFA step", () => {
  it("a copy of the cookie from before the MFA step is worth nothing once the step is passed; the browser that passed it gets a new one", async () => {
    const { encode } = await import("next-auth/jwt");
    const { endPortalSessionFromCookie, portalUserFromCookie, reissuedSessionCookie } = await import("@/lib/auth/portal-session");
    const { completeMfaStep } = await import("@/lib/auth/mfa-step");
    const { codeAt, withTotp } = await import("../support/mfa");
    const { user, secret } = await withTotp();
    const signIn = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    if (!signIn.ok) throw new Error("sign-in failed");
    // As next-auth issues it at sign-in (lib/auth/next-auth.ts: generation 0).
    const before = await encode({ token: { sid: signIn.sessionId, uid: user.id, gen: 0 }, secret: process.env.AUTH_SECRET!, salt: "authjs.session-token" });
    const reading = (value: string) => (name: string) => (name === "authjs.session-token" ? value : undefined);
    // Pending, not signed in: the cookie names the session at its current generation all the same.
    expect(await portalUserFromCookie(reading(before))).toBeNull();
    expect(await findSessionForCookie({ sid: signIn.sessionId, uid: user.id, gen: 0 })).toMatchObject({ stage: "mfa_required" });

    const pending = { sessionId: signIn.sessionId, id: user.id, email: user.email, name: user.name, roles: user.roles, groups: [], mfaVerifiedAt: null, passwordVerifiedAt: null, authMethods: ["password"], riskScore: 0, deviceTrusted: false, deviceId: null, stage: "mfa_required" as const, requiredFactor: "any" as const };
    expect(await completeMfaStep(pending, { method: "totp", code: await codeAt(secret, new Date()) }, false, ctx)).toMatchObject({ ok: true, stage: "active" });
    expect(await portalUserFromCookie(reading(before))).toBeNull();
    // Nor can the copy sign the real browser out.
    expect(await endPortalSessionFromCookie(reading(before), user.id, client())).toBe(false);

    const issued = await reissuedSessionCookie(reading(before));
    expect(issued).toMatchObject({ name: "authjs.session-token", options: { httpOnly: true, sameSite: "lax", path: "/", secure: false } });
    expect(await portalUserFromCookie(reading(issued!.value))).toMatchObject({ id: user.id, sessionId: signIn.sessionId });
    // The new cookie gets nothing more, nor does a cookie older than the step's.
    expect(await reissuedSessionCookie(reading(issued!.value))).toBeNull();
    const older = await encode({ token: { sid: signIn.sessionId, uid: user.id, gen: -1 }, secret: process.env.AUTH_SECRET!, salt: "authjs.session-token" });
    expect(await reissuedSessionCookie(reading(older))).toBeNull();
    // The stale copy's visits are not recorded on the session (it could keep it from idling out).
    const seen = (await db().session.findUniqueOrThrow({ where: { id: signIn.sessionId } })).lastSeenAt;
    expect(await portalUserFromCookie(reading(before))).toBeNull();
    expect(await findSessionForCookie({ sid: signIn.sessionId, uid: user.id, gen: 0 }, new Date(Date.now() + 10 * 60_000))).toBeNull();
    expect((await db().session.findUniqueOrThrow({ where: { id: signIn.sessionId } })).lastSeenAt).toEqual(seen);
    expect(await endPortalSessionFromCookie(reading(issued!.value), user.id, client())).toBe(true);
    expect(await reissuedSessionCookie(reading(before))).toBeNull();
  });
});

describe("a user's own profile", () => {
  it("a name change is audited as the account's own change, with the name before and after", async () => {
    const user = await makeUser();
    await updateName(user.id, "Ada Lovelace", userContext(user, client()));
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "user.profile.update" } });
    expect(event).toMatchObject({ type: "authentication", actorId: user.id, resourceId: user.id, metadata: { before: { name: "Test User" }, after: { name: "Ada Lovelace" } } });
    await expect(updateName("00000000-0000-4000-8000-000000000000", "Nobody", ctx)).rejects.toThrow(NoSuchUserError);
  });
});
