import "server-only";
import { z } from "zod";
import { db, isUniqueViolation, Prisma } from "../db/client";
import { ELEVATED_ROLES, ROLES, type RoleName } from "./roles";
import { hashPassword, newPasswordSchema, passwordState, verifyPassword } from "./password";
import { PasswordRefusedError, screenNewPassword, type PasswordOwner } from "./password-screening";
import { auditSessionsEnded, awaitsPasswordChange, endAllSessions, endPasswordOnlySessions, leavePasswordChangeStage, markSessionsEnded, signInReachedApp, type SessionEndReason } from "./sessions";
import { liftSignInLock, clearPasswordFailures, moveSignInCounters, signInLockedUntil } from "./throttle";
import { forgetEmailVerificationLinks } from "./email-verification";
import { audit, type AuditContext } from "../audit/context";
import { revokeUserGrants } from "../oidc/consents";
import { listActiveClients } from "../oidc/clients";
import { revokeDeviceTrust } from "../devices";
import { safeEqual } from "../crypto";
import { HAS_SECOND_FACTOR, mfaRequiredFor, resetMfa, secondFactorsOf } from "../mfa/factors";
import { clearFactorFailures, factorLockedUntil } from "../mfa/lockout";
import { checkSessionPassword, type SessionPasswordCheck } from "./reauthenticate";
import { liveSessionWhere } from "./live-session";
import type { CurrentUser } from "./session-user";
import { GROUP_ID_PATTERN, GROUP_IDS, groupIds } from "../groups/membership";
import { searchTextParam } from "../util/query-string";
import type { PolicyPrincipal } from "../policy";
import { consolePowersBeyond, mayManageSomeSection, policiesSingleOutAccounts } from "../policy/pdp";
import { ADMIN_ACCESS_TRANSACTION, groupsNamedNow, lockoutOfChange, takeAdminAccessLock } from "../policy/store";

export const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email("Enter a valid email address."));
export const nameSchema = z.string().trim().min(1, "Enter a name.").max(100, "Use at most 100 characters.");
export const rolesSchema = z
  .array(z.enum(ROLES))
  .transform((roles) => Array.from(new Set<RoleName>(["user", ...roles])));

export const newUserSchema = z.object({
  email: emailSchema,
  name: nameSchema,
  password: newPasswordSchema,
  roles: rolesSchema,
});
export type NewUser = z.infer<typeof newUserSchema>;

export class EmailTakenError extends Error {
  constructor() {
    super("An account with this email already exists.");
  }
}

/** Who hands out roles, when it is a person (the first admin is made by the system). */
export type Granter = { id: string; email: string; roles: readonly RoleName[]; groups: readonly string[] };

export class RoleGrantError extends Error {}

/**
 * Only an admin hands out any role; anyone else whom the policies let manage users (a help desk
 * that unlocks accounts) hands out only roles they hold, so they cannot make themselves, or
 * anyone, an admin. Nobody changes their own roles. Everyone may be given "user".
 */
function checkGrant(granter: Granter | null, userId: string | null, granted: readonly RoleName[]) {
  if (!granter) return;
  if (userId === granter.id) throw new RoleGrantError("You cannot change your own roles: ask another admin.");
  if (granter.roles.includes("admin")) return;
  const notHeld = granted.filter((role) => role !== "user" && !granter.roles.includes(role));
  if (notHeld.length) throw new RoleGrantError(`You cannot grant a role you do not hold: ${notHeld.join(", ")}.`);
}

/**
 * Only an admin acts on anyone's account (password, second factors, lock, sessions, enabled or
 * not); anyone else whom the policies let manage users acts only on accounts holding no role they
 * lack, in no group the policies name that they are not in, and that may do nothing in the console
 * they may not (by a group that keeps the actor out, say), so that a temporary password or an MFA
 * reset cannot hand a help desk a more powerful account. Returns why not (audited as `action`), or null.
 */
export async function actingOnRefusal(actor: Granter, userId: string, action: string, ctx: AuditContext): Promise<string | null> {
  const refusal = await targetRefusal(actor, userId, ctx.client?.ip ?? null);
  if (!refusal) return null;
  if (refusal.reason) await audit(ctx, { type: "admin", action, outcome: "blocked", resource: { type: "user", id: userId }, metadata: { reason: refusal.reason, ...refusal.metadata } });
  return refusal.message;
}

type TargetRefusal = { reason: string | null; metadata: Record<string, string[]>; message: string };

/** Why `actor` may not act on the account as it is now (actingOnRefusal's rules), or null; read on `client`. */
async function targetRefusal(actor: Granter, userId: string, ip: string | null, client: Tx = db()): Promise<TargetRefusal | null> {
  if (actor.roles.includes("admin")) return null;
  const target = await client.user.findUnique({ where: { id: userId }, select: { email: true, roles: true, ...GROUP_IDS } });
  if (!target) return { reason: null, metadata: {}, message: new NoSuchUserError().message };
  const notHeld = target.roles.filter((role) => role !== "user" && !actor.roles.includes(role));
  if (notHeld.length) return { reason: "target_holds_roles_actor_lacks", metadata: { roles: notHeld }, message: `Only an admin can do this to an account with roles you do not hold: ${notHeld.join(", ")}.` };
  // A group the policies name may let its members in only sometimes (office hours, an address, a
  // strength) that the comparison below does not try: held like a role.
  const named = await groupsNamedNow(client);
  const notIn = groupIds(target).filter((group) => named.has(group) && !actor.groups.includes(group));
  if (notIn.length) return { reason: "target_in_groups_actor_lacks", metadata: { groups: notIn }, message: `Only an admin can do this to an account in groups the policies name that you are not in: ${notIn.join(", ")}.` };
  const powers = await powersBeyond({ userId, email: target.email, roles: target.roles, groups: groupIds(target) }, actor, ip, client);
  if (powers.length) return { reason: "target_may_do_more", metadata: { powers }, message: `Only an admin can do this to an account that may do what you may not: ${powers.join(", ")}.` };
  return null;
}

/**
 * Under the admin access lock, right before the change: the actor may still act on the account as
 * it is now. The request was let through on the account as it was (actingOnRefusal); an admin's
 * change to it that committed while this one screened a password or waited for the lock (making it
 * an admin, say) must not let a help desk set a new admin's password. Thrown as a RoleGrantError.
 */
async function requireMayActOn(tx: Tx, actor: Granter | null, userId: string, ip: string | null): Promise<void> {
  const refusal = actor && (await targetRefusal(actor, userId, ip, tx));
  if (refusal) throw refusal.reason ? new RoleGrantError(refusal.message) : new NoSuchUserError();
}

/**
 * What `account` may do, in the console or getting tokens for any app in use, that `actor` may
 * not, from `ip` (consolePowersBeyond). Read on `client`: under the admin access lock, the
 * transaction holding it (on one connection, a read outside it would wait for it).
 */
async function powersBeyond(account: PolicyPrincipal, actor: Granter, ip: string | null, client: Tx = db()): Promise<string[]> {
  const clients = (await listActiveClients(client)).map((app) => ({ id: app.id, name: app.name }));
  return consolePowersBeyond(account, { userId: actor.id, email: actor.email, roles: actor.roles, groups: actor.groups }, ip, new Date(), clients, client);
}

/**
 * For someone other than an admin: refuses (RoleGrantError) an account, as it will be after the
 * change, that may do in the console, or get tokens for an app, what the actor may not. Policies may trust more than roles
 * (an email domain, say), so a help desk choosing an account's email could otherwise mint one.
 */
async function requireNoMorePowerThan(actor: Granter | null, account: PolicyPrincipal, ip: string | null, client: Tx = db()) {
  if (!actor || actor.roles.includes("admin")) return;
  const powers = await powersBeyond(account, actor, ip, client);
  if (powers.length) throw new RoleGrantError(`Only an admin can give an account what would let it do what you may not: ${powers.join(", ")}.`);
}

/**
 * Screens a password someone other than its owner typed (a new account, a temporary password): a
 * refusal is audited as a failure of `action` with the reason (never the password), then thrown.
 */
async function requireAcceptablePassword(password: string, owner: PasswordOwner, ctx: AuditContext, action: string, user: { id: string | null; email: string }) {
  const screening = await screenNewPassword(password, owner);
  if (screening.ok) return;
  // The refusal is what the caller must see (the first-admin setup link stays usable on it), even
  // if its audit event cannot be written: a refused password changed nothing.
  await audit(ctx, { type: "admin", action, outcome: "failure", resource: user.id ? { type: "user", id: user.id } : null, metadata: { email: user.email, reason: screening.reason } })
    .catch((error: unknown) => console.error("[auth] could not audit a refused password:", error instanceof Error ? error.message : error));
  throw new PasswordRefusedError(screening);
}

/**
 * Runs `change`; a refusal it throws for a rule on who may change what (a role not held, a last
 * admin, one's own account) is audited as `action` blocked before it reaches the caller: an
 * attempt to escalate is what detection rules and reviewers look for.
 */
async function auditingRefusal<T>(ctx: AuditContext, action: string, userId: string | null, metadata: Record<string, unknown>, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (error instanceof RoleGrantError || error instanceof LastAdminError) {
      await audit(ctx, { type: "admin", action, outcome: "blocked", resource: userId ? { type: "user", id: userId } : null, metadata: { ...metadata, reason: error.message.slice(0, 300) } });
    }
    throw error;
  }
}

/** The first admin was to be created, and an admin exists (made meanwhile by another setup link, or another instance's start). */
export class AdminExistsError extends Error {
  constructor() {
    super("An admin exists already.");
  }
}

/**
 * `temporaryPassword`: the admin chose the password, so the user must replace it at the first
 * sign-in (the console's default); the first admin's own is not. `firstAdmin`: created only while
 * no admin exists (AdminExistsError), judged under the lock every admin's creation takes, since
 * the screening and the hash leave time for another instance to make one.
 */
export async function createUser(input: NewUser, ctx: AuditContext, granter: Granter | null, { temporaryPassword = false, firstAdmin = false } = {}) {
  await auditingRefusal(ctx, "user.create", null, { email: input.email, roles: input.roles }, async () => {
    checkGrant(granter, null, input.roles);
    await requireNoMorePowerThan(granter, { userId: "(new account)", email: input.email, roles: input.roles, groups: [] }, ctx.client?.ip ?? null);
  });
  await requireAcceptablePassword(input.password, input, ctx, "user.create", { id: null, email: input.email });
  const hash = await hashPassword(input.password);
  let user;
  try {
    // Under the admin access lock, with the creator as their request found them.
    user = await auditingRefusal(ctx, "user.create", null, { email: input.email, roles: input.roles }, () => underAccessLock(granter, null, async (tx) => {
      if (firstAdmin && (await tx.user.count({ where: { roles: { has: "admin" } } })) > 0) throw new AdminExistsError();
      return tx.user.create({
        data: { email: input.email, name: input.name, roles: input.roles, password: { create: { hash } }, passwordResetRequiredAt: temporaryPassword ? new Date() : null },
        select: { id: true, email: true, name: true, roles: true },
      });
    }));
  } catch (error) {
    if (isUniqueViolation(error)) throw new EmailTakenError();
    throw error;
  }
  await audit(ctx, { type: "admin", action: "user.create", outcome: "success", resource: { type: "user", id: user.id }, metadata: { email: user.email, roles: user.roles, temporaryPassword } });
  return user;
}

export const USERS_PAGE_SIZE = 25;

/** The user list's filters, as the console's query string carries them (each optional). */
export const userListFiltersSchema = z.object({
  q: searchTextParam,
  role: z.enum(ROLES).optional().catch(undefined),
  status: z.enum(["active", "disabled"]).optional().catch(undefined),
  secondFactor: z.enum(["with", "without"]).optional().catch(undefined),
  group: z.string().regex(GROUP_ID_PATTERN).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).optional().catch(undefined),
});
export type UserListQuery = z.infer<typeof userListFiltersSchema>;

export async function listUsers({ q, role, status, secondFactor, group, page = 1 }: UserListQuery) {
  const filters: Prisma.UserWhereInput[] = [
    ...(q ? [{ OR: [{ email: { contains: q, mode: "insensitive" as const } }, { name: { contains: q, mode: "insensitive" as const } }] }] : []),
    ...(role ? [{ roles: { has: role } }] : []),
    ...(status ? [{ disabledAt: status === "disabled" ? { not: null } : null }] : []),
    ...(secondFactor ? [secondFactor === "with" ? HAS_SECOND_FACTOR : { NOT: HAS_SECOND_FACTOR }] : []),
    ...(group ? [{ groups: { some: { groupId: group } } }] : []),
  ];
  const where: Prisma.UserWhereInput = { AND: filters };
  const now = new Date();
  const pageOf = (n: number) => db().user.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    skip: (n - 1) * USERS_PAGE_SIZE,
    take: USERS_PAGE_SIZE,
    select: { id: true, email: true, name: true, roles: true, disabledAt: true, createdAt: true, lastSignInAt: true, _count: liveSessionCount(now) },
  });
  const [total, asked] = await Promise.all([db().user.count({ where }), pageOf(page)]);
  const pageCount = Math.max(1, Math.ceil(total / USERS_PAGE_SIZE));
  // A page past the last (a link from when there were more, a typed number) shows the last.
  const shown = Math.min(page, pageCount);
  const users = shown === page ? asked : await pageOf(shown);
  return { total, page: shown, pageCount, users: await withSessionsAndFactors(users) };
}

/** What account lists select to count each user's sessions in force (see withSessionsAndFactors). */
const liveSessionCount = (now: Date) => ({ select: { sessions: { where: liveSessionWhere(now) } } });

/** Users of a list with their sessions in force (counted by liveSessionCount) and second factors (one query for all). */
async function withSessionsAndFactors<U extends { id: string; _count: { sessions: number } }>(users: U[]) {
  const factors = await secondFactorsOf(users.map((u) => u.id));
  return users.map(({ _count, ...user }) => ({ ...user, activeSessions: _count.sessions, secondFactors: factors.get(user.id)! }));
}

/** An enabled user as an OpenID Connect account (the provider's claims come from it); null if unknown or disabled. */
export async function findEnabledAccount(userId: string): Promise<{ id: string; name: string; email: string; emailVerified: boolean; roles: RoleName[]; groups: string[]; updatedAt: Date } | null> {
  const user = await db().user.findUnique({ where: { id: userId }, select: { id: true, name: true, email: true, emailVerifiedAt: true, roles: true, updatedAt: true, disabledAt: true, ...GROUP_IDS } });
  if (!user || user.disabledAt) return null;
  return { id: user.id, name: user.name, email: user.email, emailVerified: user.emailVerifiedAt !== null, roles: user.roles, groups: groupIds(user), updatedAt: user.updatedAt };
}

export async function findUser(userId: string) {
  const user = await db().user.findUnique({
    where: { id: userId },
    select: { id: true, email: true, emailVerifiedAt: true, name: true, roles: true, disabledAt: true, passwordResetRequiredAt: true, password: { select: { changedAt: true } } },
  });
  return user && { ...user, passwordState: passwordState(user.passwordResetRequiredAt, user.password?.changedAt) };
}

/**
 * Every account with what an access review asks of it (roles, groups, status, last sign-in, the password's
 * state, sessions in force), oldest first. For the compliance officer's periodic review (CC6.2/6.3).
 */
export async function listAccountsForReview(now = new Date()) {
  const users = await db().user.findMany({
    orderBy: { createdAt: "asc" },
    select: {
      id: true, email: true, name: true, roles: true, disabledAt: true, createdAt: true, lastSignInAt: true, passwordResetRequiredAt: true,
      password: { select: { changedAt: true } }, ...GROUP_IDS,
      _count: liveSessionCount(now),
    },
  });
  return (await withSessionsAndFactors(users)).map(({ password, groups, ...user }) => ({
    ...user,
    groups: groupIds({ groups }),
    passwordChangedAt: password?.changedAt ?? null,
    passwordState: passwordState(user.passwordResetRequiredAt, password?.changedAt),
  }));
}

/** The access these accounts hold now (roles, groups, disabled), by id; deleted accounts are missing. */
export async function currentAccess(ids: string[], client: Tx = db()): Promise<Map<string, { roles: RoleName[]; groups: string[]; disabled: boolean }>> {
  const rows = ids.length ? await client.user.findMany({ where: { id: { in: ids } }, select: { id: true, roles: true, disabledAt: true, ...GROUP_IDS } }) : [];
  return new Map(rows.map((u) => [u.id, { roles: u.roles, groups: groupIds(u), disabled: !!u.disabledAt }]));
}

/** When the first account was made: when this installation's first access review fell due. */
export async function firstAccountCreatedAt(): Promise<Date | null> {
  return (await db().user.findFirst({ orderBy: { createdAt: "asc" }, select: { createdAt: true } }))?.createdAt ?? null;
}

/** Active admins as policy principals: whom the policy lockout guard must keep in. */
export const listActiveAdmins = (client: Tx = db()) => listActiveUsersWithRole(["admin"], client);

/** A user as a policy principal, by email (the policy simulator names users so). */
export async function findPrincipalByEmail(email: string): Promise<PolicyPrincipal | null> {
  const user = await db().user.findUnique({ where: { email: email.trim().toLowerCase() }, select: { id: true, email: true, roles: true, ...GROUP_IDS } });
  return user && { userId: user.id, email: user.email, roles: user.roles, groups: groupIds(user) };
}

/** Emails by user id, for "who did it" columns (deleted users are missing). */
export async function userEmails(ids: string[]): Promise<Map<string, string>> {
  const rows = ids.length ? await db().user.findMany({ where: { id: { in: ids } }, select: { id: true, email: true } }) : [];
  return new Map(rows.map((u) => [u.id, u.email]));
}

export class LastAdminError extends Error {
  constructor(message = "Gatehouse must keep at least one active admin.") {
    super(message);
  }
}

export class NoSuchUserError extends Error {
  constructor() {
    super("That user does not exist.");
  }
}

async function existingUser(tx: Tx, userId: string) {
  const user = await tx.user.findUnique({ where: { id: userId }, select: { roles: true, email: true, name: true, disabledAt: true, ...GROUP_IDS } });
  if (!user) throw new NoSuchUserError();
  return user;
}

type Tx = Prisma.TransactionClient;

/**
 * Runs `change` (to an account's roles, status or existence) only if an active admin remains who
 * can still reach the policy editor from `from` (the lockout guard, as for a publish: a policy may
 * let only some admins in, by a group say); else throws LastAdminError with the reason. One such
 * change at a time (takeAdminAccessLock): two admins demoting each other at the same moment cannot
 * both succeed, since the second reads the admins (read committed) once the first is done.
 */
async function keepingAnAdmin<T>(change: (tx: Tx) => Promise<T>, from: string | null, actor: Granter | null, actingOn: string | null = null): Promise<T> {
  return underAccessLock(actor, actingOn ? { userId: actingOn, ip: from } : null, async (tx) => {
    const before = await listActiveAdmins(tx);
    const result = await change(tx);
    const after = await listActiveAdmins(tx);
    // Taking the last admin away is refused; a change where there was none already is not this rule's.
    if (after.length === 0 && before.length > 0) throw new LastAdminError();
    const lockout = await lockoutOfChange(before, after, from, tx);
    if (lockout) throw new LastAdminError(lockout);
    return result;
  });
}

/**
 * Runs `change` under the admin access lock (one change of who may do what at a time), with the
 * actor as their request found them (requireActorUnchanged) and, given `actingOn`, the account they
 * act on as it is now (requireMayActOn): the checks before, and a slow screening or hash, leave
 * time for another admin's change to commit meanwhile.
 */
function underAccessLock<T>(actor: Granter | null, actingOn: { userId: string; ip: string | null } | null, change: (tx: Tx) => Promise<T>): Promise<T> {
  return db().$transaction(async (tx) => {
    await takeAdminAccessLock(tx);
    await requireActorUnchanged(tx, actor);
    if (actingOn) await requireMayActOn(tx, actor, actingOn.userId, actingOn.ip);
    return change(tx);
  }, ADMIN_ACCESS_TRANSACTION);
}

/**
 * Under the admin access lock: the acting account is still as its request found it when it was let
 * in (there, not disabled, the same roles and groups). Another admin's change to it (a demotion)
 * may have committed while this change waited for the lock; acting on the old authority would land
 * a removed admin's last change after their removal.
 */
export async function requireActorUnchanged(tx: Tx, actor: Granter | null): Promise<void> {
  const changed = actor && (await actorChanged(tx, actor));
  if (changed) throw new RoleGrantError(changed);
}

/** Why `actor` may no longer act on its request's authority (requireActorUnchanged), or null. */
export async function actorChanged(tx: Tx, actor: Granter): Promise<string | null> {
  const now = await tx.user.findUnique({ where: { id: actor.id }, select: { email: true, roles: true, disabledAt: true, ...GROUP_IDS } });
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
  // The email too: policies may grant by it (a help desk's domain).
  if (now && !now.disabledAt && now.email === actor.email && same(now.roles, actor.roles) && same(groupIds(now), actor.groups)) return null;
  return "Your own access changed while this was being done, so nothing was changed: reload the page.";
}

export async function setRoles(userId: string, roles: RoleName[], ctx: AuditContext, granter: Granter | null) {
  const { before, after, sessionsEnded } = await auditingRefusal(ctx, "user.roles.update", userId, { roles }, () => keepingAnAdmin(async (tx) => {
    const current = await existingUser(tx, userId);
    checkGrant(granter, userId, roles.filter((role) => !current.roles.includes(role)));
    // Judged as the account will be: policies may trust more than roles (an email domain, say), or
    // keep a role out (a forbid), so a role given or taken away can add powers the granter lacks.
    await requireNoMorePowerThan(granter, { userId, email: current.email, roles, groups: groupIds(current) }, ctx.client?.ip ?? null, tx);
    const updated = await tx.user.update({ where: { id: userId }, data: { roles }, select: { roles: true } });
    // A role that makes a second factor mandatory, given to an account without one: its sessions
    // began without a factor and would hold the role's access for hours. They end with the grant;
    // the next sign-in enrols a factor first.
    const needsFactorNow = mfaRequiredFor(updated.roles) && !mfaRequiredFor(current.roles)
      && (await tx.user.count({ where: { id: userId, ...HAS_SECOND_FACTOR } })) === 0;
    const sessionsEnded = needsFactorNow ? await markSessionsEnded(tx, userId, {}, "second_factor_now_required") : 0;
    return { before: current.roles, after: updated.roles, sessionsEnded };
  }, ctx.client?.ip ?? null, granter, userId));
  const granted = after.filter((r) => !before.includes(r));
  const revoked = before.filter((r) => !after.includes(r));
  if (granted.length || revoked.length) {
    await audit(ctx, { type: "admin", action: "user.roles.update", outcome: "success", resource: { type: "user", id: userId }, metadata: { before, after, granted, revoked } });
  }
  await auditSessionsEnded(ctx, userId, "second_factor_now_required", sessionsEnded, null);
  return after;
}

/**
 * Lifts what keeps a user from signing in: the password lock (repeated failures, a blocked risky
 * sign-in, an incident's response) and the wrong-code lock of their second factor (a phone with a
 * wrong clock locks it as surely as a guesser). False if neither was locked.
 */
export async function unlockSignIn(userId: string, ctx: AuditContext, actor: Granter | null = null): Promise<boolean> {
  const user = await db().user.findUnique({ where: { id: userId }, select: { email: true } });
  if (!user) throw new NoSuchUserError();
  await auditingRefusal(ctx, "account.unlock", userId, {}, () => requireActorUnchanged(db(), actor));
  const [lockedUntil, factorsLockedUntil] = await Promise.all([signInLockedUntil(user.email), factorLockedUntil(userId)]);
  if (!lockedUntil && !factorsLockedUntil) return false;
  if (lockedUntil) await liftSignInLock(user.email);
  if (factorsLockedUntil) await clearFactorFailures(userId);
  await audit(ctx, {
    type: "security", action: "account.unlock", outcome: "success", resource: { type: "user", id: userId },
    metadata: { email: user.email, lockedUntil: lockedUntil?.toISOString() ?? null, secondFactorLockedUntil: factorsLockedUntil?.toISOString() ?? null },
  });
  return true;
}

/**
 * Disabling also ends every session and revokes the apps' grants, so a disabled user is out at
 * once, and enabling the account again does not bring back tokens an attacker may hold. Returns
 * whether the account changed: false when it already was so (nothing audited; a disable still
 * ends what it ends).
 */
export async function setDisabled(userId: string, disabled: boolean, ctx: AuditContext, actor: Granter | null = null): Promise<{ changed: boolean }> {
  const action = disabled ? "user.disable" : "user.enable";
  const { user, changed } = await auditingRefusal(ctx, action, userId, {}, () => keepingAnAdmin(async (tx) => {
    if (disabled && ctx.actor.type === "user" && ctx.actor.id === userId) throw new RoleGrantError("You cannot disable your own account.");
    const current = await existingUser(tx, userId);
    // Already so: nothing changes, and a disabled account keeps the time it was first disabled.
    if ((current.disabledAt !== null) === disabled) return { user: current, changed: false };
    if (disabled) {
      await forgetRecoveryLinks(tx, userId);
      await forgetEmailVerificationLinks(tx, userId);
    }
    return { user: await tx.user.update({ where: { id: userId }, data: { disabledAt: disabled ? new Date() : null } }), changed: true };
  }, ctx.client?.ip ?? null, actor, userId));
  if (changed) await audit(ctx, { type: "admin", action, outcome: "success", resource: { type: "user", id: userId }, metadata: { email: user.email } });
  // Also for an account disabled already: one disabled before disabling revoked grants has them still.
  if (disabled) await takeBackAccess(userId, "user_disabled", ctx);
  return { changed };
}

/**
 * Ends every session of the account and revokes its apps' grants and tokens (an app let in from a
 * session since signed out would keep refreshing), and with `forgetDevices` its remembered
 * devices: what each step that distrusts the account's sign-ins takes back. Returns the sessions ended.
 */
export async function takeBackAccess(userId: string, reason: SessionEndReason, ctx: AuditContext, { forgetDevices = false } = {}): Promise<number> {
  const ended = await endAllSessions(userId, reason, ctx);
  await revokeUserGrants(userId, ctx);
  if (forgetDevices) await revokeDeviceTrust(userId, null, ctx);
  return ended;
}

/**
 * An admin changes a user's sign-in email (a typo at creation, a new name). The new address is
 * unverified until its owner confirms it; recovery and verification links sent to the old address stop working; the old address is told (lib/notices: the account's previous
 * owner of that mailbox would otherwise never learn of it). Returns false when nothing changed.
 */
export async function changeEmail(userId: string, email: string, ctx: AuditContext, actor: Granter | null = null): Promise<boolean> {
  let before: string;
  try {
    // Under the admin access lock and guard: a policy may name admins by email, so a new email can
    // shut the last admin out of the policy editor as a role change can.
    before = await auditingRefusal(ctx, "user.email.change", userId, { email }, () => keepingAnAdmin(async (tx) => {
      // Policies may trust or keep out an email domain: one's own address is changed by another admin, as one's own roles are.
      if (actor && actor.id === userId) throw new RoleGrantError("You cannot change your own sign-in email: ask another admin.");
      // The row lock orders this against a recovery link being stored for the account (recovery.ts).
      await tx.$queryRaw`SELECT id FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
      const user = await existingUser(tx, userId);
      if (user.email === email) return email;
      await requireNoMorePowerThan(actor, { userId, email, roles: user.roles, groups: groupIds(user) }, ctx.client?.ip ?? null, tx);
      // The new address is not proven yet (email-verification.ts), and links to the old one stop working.
      await tx.user.update({ where: { id: userId }, data: { email, emailVerifiedAt: null } });
      await forgetRecoveryLinks(tx, userId);
      await forgetEmailVerificationLinks(tx, userId);
      // Locks and failure counts are kept by sign-in name: they move with it.
      await moveSignInCounters(tx, user.email, email);
      return user.email;
    }, ctx.client?.ip ?? null, actor, userId));
  } catch (error) {
    if (isUniqueViolation(error)) throw new EmailTakenError();
    throw error;
  }
  if (before === email) return false;
  await audit(ctx, { type: "admin", action: "user.email.change", outcome: "success", resource: { type: "user", id: userId }, metadata: { before, after: email } });
  return true;
}

/**
 * Deletes an account for good (a leaver, an erasure request): its sessions, factors, devices,
 * consents and provider grants and tokens go with it. The audit trail keeps what happened, under
 * the account's id and the email it had. Never the caller's own account, nor the last admin.
 */
export async function deleteUser(userId: string, ctx: AuditContext, actor: Granter): Promise<{ email: string }> {
  await auditingRefusal(ctx, "user.delete", userId, {}, async () => {
    if (userId === actor.id) throw new RoleGrantError("You cannot delete your own account: ask another admin.");
  });
  const refusal = await actingOnRefusal(actor, userId, "user.delete", ctx);
  if (refusal) throw new RoleGrantError(refusal);
  const deleted = await auditingRefusal(ctx, "user.delete", userId, {}, () => keepingAnAdmin(async (tx) => {
    const user = await existingUser(tx, userId);
    await tx.user.delete({ where: { id: userId } });
    return user;
  }, ctx.client?.ip ?? null, actor, userId));
  // Audited first: the deletion cannot be undone, so it is on the record even if a clean-up below fails.
  await audit(ctx, { type: "admin", action: "user.delete", outcome: "success", resource: { type: "user", id: userId }, metadata: { email: deleted.email, name: deleted.name, roles: deleted.roles, groups: groupIds(deleted) } });
  // The provider's records name the account by id only (no foreign key): its grants and tokens die here.
  await revokeUserGrants(userId, ctx);
  // A lock on its sign-in name is not handed to the next account of that email.
  await liftSignInLock(deleted.email);
  return { email: deleted.email };
}

/** A user changes their own name (it reaches apps in ID tokens): audited as the account's own change, with before and after. */
export async function updateName(userId: string, name: string, ctx: AuditContext) {
  const before = await db().user.findUnique({ where: { id: userId }, select: { name: true } });
  if (!before) throw new NoSuchUserError();
  await db().user.update({ where: { id: userId }, data: { name } });
  await audit(ctx, { type: "authentication", action: "user.profile.update", outcome: "success", resource: { type: "user", id: userId }, metadata: { fields: ["name"], before: { name: before.name }, after: { name } } });
}

export type PasswordChangeResult =
  | { ok: true; endedSessions: number }
  | Exclude<SessionPasswordCheck, { ok: true }>
  | { ok: false; reason: "unacceptable_password"; message: string }
  | { ok: false; reason: "same_password" };

/**
 * A new password replaces the old one and satisfies a pending reset requirement, however it was
 * chosen (unless it is an admin's temporary one, which sets the requirement); recovery links sent
 * before it stop working (lib/auth/recovery.ts), and so does every session but `keepSessionId`'s,
 * in the same transaction: no session signed in with the old password outlives it, even if the
 * process stops before what follows the commit. Returns how many live sessions ended; the caller
 * audits them once committed (auditSessionsEnded).
 */
export async function storeNewPassword(tx: Tx, userId: string, hash: string, now: Date, { temporary = false, keepSessionId = null as string | null } = {}): Promise<number> {
  await tx.passwordCredential.upsert({ where: { userId }, create: { userId, hash, changedAt: now }, update: { hash, changedAt: now } });
  if (temporary) {
    // A temporary password (set by an admin) must be replaced at the next sign-in.
    await tx.user.update({ where: { id: userId }, data: { passwordResetRequiredAt: now } });
  } else {
    // `now` is when the caller's checks began: a requirement an incident set while they ran (the
    // screening, the hash) is newer, and stays.
    await tx.user.updateMany({ where: { id: userId, OR: [{ passwordResetRequiredAt: null }, { passwordResetRequiredAt: { lte: now } }] }, data: { passwordResetRequiredAt: null } });
  }
  await forgetRecoveryLinks(tx, userId);
  return markSessionsEnded(tx, userId, keepSessionId ? { id: { not: keepSessionId } } : {}, "password_changed");
}

/** Unused password recovery links stop working: after a password change, a disable or a forced reset. */
function forgetRecoveryLinks(tx: Tx, userId: string) {
  return tx.passwordResetToken.deleteMany({ where: { userId, usedAt: null } });
}

/**
 * Changing the password ends every other session of the user; with `disconnectApps` (someone else
 * may have had the password) also every app's grants and tokens and every single sign-on session.
 */
export async function changePassword(
  user: Pick<CurrentUser, "id" | "email" | "sessionId"> & { name?: string | null },
  currentPassword: string,
  newPassword: string,
  ctx: AuditContext,
  { disconnectApps = false, factorVerified = false } = {},
): Promise<PasswordChangeResult> {
  const started = new Date();
  const check = await checkSessionPassword(user, currentPassword, "password.change", ctx, { now: started, factorVerified });
  if (!check.ok) return check;
  const userId = user.id;
  // The same password again would lift an incident's distrust of it (storeNewPassword) and change nothing else.
  if (safeEqual(newPassword, currentPassword)) {
    await audit(ctx, { type: "authentication", action: "password.change", outcome: "failure", resource: { type: "user", id: userId }, metadata: { reason: "same_password" } });
    return { ok: false, reason: "same_password" };
  }
  // Screened only once the current password is proven: the answer says nothing to a session thief.
  const screening = await screenNewPassword(newPassword, { email: user.email, name: user.name });
  if (!screening.ok) {
    await audit(ctx, { type: "authentication", action: "password.change", outcome: "failure", resource: { type: "user", id: userId }, metadata: { reason: screening.reason } });
    return { ok: false, reason: "unacceptable_password", message: screening.message };
  }
  // Apps first: if that fails, the old password still works and the user can simply try again.
  if (disconnectApps) await revokeUserGrants(userId, ctx);
  const hash = await hashPassword(newPassword);
  const endedSessions = await db().$transaction((tx) => storeNewPassword(tx, userId, hash, started, { keepSessionId: user.sessionId }));
  await audit(ctx, { type: "authentication", action: "password.change", outcome: "success", resource: { type: "user", id: userId } });
  await auditSessionsEnded(ctx, userId, "password_changed", endedSessions, user.sessionId);
  return { ok: true, endedSessions };
}

/**
 * Removes every second factor, backup code and device trust (lib/mfa), ends every session and
 * revokes the apps' grants: an MFA reset usually means someone else may have had a factor, a
 * session kept open would now pass step-up with nothing to prove and could enroll a factor of its
 * own, and an app let in by a session already signed out would keep refreshing its tokens.
 */
export async function resetUserMfa(userId: string, reason: string, ctx: AuditContext, actor: Granter | null = null): Promise<number> {
  await existingUser(db(), userId);
  // The factors go under the lock, judged on the account as it is then (a role change committed meanwhile is seen).
  await auditingRefusal(ctx, "mfa.reset", userId, {}, () => resetMfa(userId, reason, ctx, (change) => underAccessLock(actor, { userId, ip: ctx.client?.ip ?? null }, change)));
  return takeBackAccess(userId, "mfa_reset", ctx);
}

/**
 * An admin helps a user who forgot their password (when recovery by email is not set up, or not
 * enough): a temporary password that must be replaced at the next sign-in. Every session ends,
 * the apps' grants and remembered devices are revoked (as a recovery by email does: whoever had
 * the old password may hold them), and the failed-password lockout lifts (a deliberate lock
 * stays). The admin passes it on by a channel they trust; it is never shown or logged by Gatehouse.
 */
export async function setTemporaryPassword(userId: string, password: string, ctx: AuditContext, actor: Granter | null = null, now = new Date()): Promise<void> {
  const user = await existingUser(db(), userId);
  // Whoever learns a guessable temporary password first signs in as the user: screened like any.
  await requireAcceptablePassword(password, user, ctx, "password.temporary_set", { id: userId, email: user.email });
  const hash = await hashPassword(password);
  // The admin as their request found them and the account as it is now (the screening and the hash
  // took a while): not one demoted meanwhile, nor an account made more powerful meanwhile.
  const endedSessions = await auditingRefusal(ctx, "password.temporary_set", userId, {}, () =>
    underAccessLock(actor, { userId, ip: ctx.client?.ip ?? null }, (tx) => storeNewPassword(tx, userId, hash, now, { temporary: true })));
  await audit(ctx, { type: "admin", action: "password.temporary_set", outcome: "success", resource: { type: "user", id: userId }, metadata: { email: user.email } });
  await auditSessionsEnded(ctx, userId, "password_changed", endedSessions, null);
  await takeBackAccess(userId, "password_changed", ctx, { forgetDevices: true });
  await clearPasswordFailures(user.email);
}

/**
 * Incident response: the password is distrusted, and the next sign-in must choose a new one after
 * a second factor (lib/mfa/requirement.ts). The sessions the password alone opened end now: they
 * may be the attacker's, who could otherwise enroll a factor of their own within the step-up
 * window and then change the password. Sessions verified with a factor stay (ending them is a
 * step of its own).
 */
export async function requirePasswordReset(userId: string, reason: string, ctx: AuditContext): Promise<boolean> {
  const count = await db().$transaction(async (tx) => {
    // The user's row lock orders this against a password being stored at the same moment.
    await tx.$queryRaw`SELECT id FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
    await forgetRecoveryLinks(tx, userId);
    const credential = await tx.passwordCredential.findUnique({ where: { userId }, select: { changedAt: true } });
    // Also over an admin's temporary password not yet replaced (required when it was set): it may
    // be what leaked, and is distrusted from now on.
    const notYetDistrusted = [{ passwordResetRequiredAt: null }, ...(credential ? [{ passwordResetRequiredAt: { lte: credential.changedAt } }] : [])];
    return (await tx.user.updateMany({ where: { id: userId, OR: notYetDistrusted }, data: { passwordResetRequiredAt: new Date() } })).count;
  });
  if (count) {
    await audit(ctx, { type: "security", action: "password.reset_required", outcome: "success", resource: { type: "user", id: userId }, metadata: { reason } });
    await endPasswordOnlySessions(userId, ctx);
  }
  return count > 0;
}

export type RequiredPasswordChangeResult =
  | { ok: true; endedSessions: number }
  | { ok: false; reason: "invalid_password" | "same_password" | "not_pending" }
  | { ok: false; reason: "unacceptable_password"; message: string };

/**
 * Finishes a sign-in that had to choose a new password (see requirePasswordReset): stores it, clears
 * the requirement, ends the user's other sessions (opened with the password thought compromised) and
 * lets this session into the app. Refuses, without throwing, a password that breaks the rules or is
 * the current one, and a session that is not (or no longer) waiting for the change.
 */
export async function completeRequiredPasswordChange(
  userId: string,
  sessionId: string,
  newPassword: string,
  ctx: AuditContext,
  now = new Date(),
): Promise<RequiredPasswordChangeResult> {
  const audited = (reason: string) =>
    audit(ctx, { type: "security", action: "password.reset_completed", outcome: "failure", resource: { type: "user", id: userId }, metadata: { reason } });
  const refuse = async (reason: "invalid_password" | "same_password" | "not_pending") => {
    await audited(reason);
    return { ok: false, reason } as const;
  };
  // Checked first, so the password comparison below answers only a session that passed sign-in.
  if (!(await awaitsPasswordChange(userId, sessionId, now))) return refuse("not_pending");
  if (!newPasswordSchema.safeParse(newPassword).success) return refuse("invalid_password");
  const credential = await db().passwordCredential.findUnique({ where: { userId } });
  if (credential && (await verifyPassword(credential.hash, newPassword))) return refuse("same_password");
  const screening = await screenNewPassword(newPassword, await existingUser(db(), userId));
  if (!screening.ok) {
    await audited(screening.reason);
    return { ok: false, reason: "unacceptable_password", message: screening.message };
  }

  const hash = await hashPassword(newPassword);
  // One transaction: the session is let in only together with the new password and the cleared flag.
  const endedSessions = await db().$transaction(async (tx) => {
    if (!(await leavePasswordChangeStage(tx, userId, sessionId, now))) return null;
    return storeNewPassword(tx, userId, hash, now, { keepSessionId: sessionId });
  });
  if (endedSessions === null) return refuse("not_pending");

  await audit(ctx, { type: "security", action: "password.reset_completed", outcome: "success", resource: { type: "user", id: userId }, metadata: { sessionId } });
  await auditSessionsEnded(ctx, userId, "password_changed", endedSessions, sessionId);
  await signInReachedApp(sessionId);
  return { ok: true, endedSessions };
}

/** Active (not disabled) users holding any of these roles, by email: who can be assigned, approve things or must keep access. */
export async function listActiveUsersWithRole(roles: RoleName[], client: Prisma.TransactionClient = db()): Promise<(PolicyPrincipal & { roles: RoleName[] })[]> {
  const rows = await client.user.findMany({ where: { disabledAt: null, roles: { hasSome: roles } }, select: { id: true, email: true, roles: true, ...GROUP_IDS }, orderBy: { email: "asc" } });
  return rows.map((u) => ({ userId: u.id, email: u.email, roles: u.roles, groups: groupIds(u) }));
}

/**
 * Active users whom the policies in force let manage some part of the console (signed in the
 * strongest way), by email: the admins, and whoever a policy lets in by another role, a group, an
 * email or by name. Looked for among accounts holding a role beyond "user" or in a group, or among
 * all when the policies single out accounts by email or name.
 */
export async function listConsoleManagers(now = new Date()): Promise<PolicyPrincipal[]> {
  const everyone = await policiesSingleOutAccounts(now);
  const rows = await db().user.findMany({
    where: { disabledAt: null, ...(everyone ? {} : { OR: [{ roles: { hasSome: ELEVATED_ROLES } }, { groups: { some: {} } }] }) },
    select: { id: true, email: true, roles: true, ...GROUP_IDS }, orderBy: { email: "asc" },
  });
  const managers: PolicyPrincipal[] = [];
  for (const row of rows) {
    const principal = { userId: row.id, email: row.email, roles: row.roles, groups: groupIds(row) };
    if (await mayManageSomeSection(principal, now)) managers.push(principal);
  }
  return managers;
}

/** The active user with this email if they hold any of these roles, else null. */
export async function findActiveUserWithRole(email: string, roles: RoleName[]): Promise<{ userId: string; email: string } | null> {
  const user = await db().user.findFirst({ where: { email: email.trim().toLowerCase(), disabledAt: null, roles: { hasSome: roles } }, select: { id: true, email: true } });
  return user && { userId: user.id, email: user.email };
}

/** Active users with no sign-in since `cutoff` (never-signed-in ones created before it): idle accounts that should be disabled (SOC 2 CC6.2). */
export function listIdleActiveUsers(cutoff: Date) {
  return db().user.findMany({
    where: { disabledAt: null, OR: [{ lastSignInAt: { lt: cutoff } }, { lastSignInAt: null, createdAt: { lt: cutoff } }] },
    select: { id: true, email: true, lastSignInAt: true, createdAt: true },
  });
}
