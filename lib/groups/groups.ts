import "server-only";
import { z } from "zod";
import { db, isUniqueViolation, type Prisma } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { actingOnRefusal, listActiveAdmins, requireActorUnchanged, RoleGrantError, type Granter } from "../auth/users";
import { ADMIN_ACCESS_TRANSACTION, groupsNamedNow, lockoutOfChange, takeAdminAccessLock } from "../policy/store";
import { GROUP_ID_PATTERN } from "./membership";

// Groups of users (teams, departments, contractors). A group is the Cedar entity
// Gatehouse::Group::"<id>", a parent of each member: policies grant or deny by it, and apps read
// the ids in the `groups` claim. A group the policies in force name is power in Gatehouse (it may
// let its members in, or keep them out), so it is guarded like a role: only an admin makes,
// renames or deletes groups and changes who is in a group the policies name; anyone else the
// policies let manage users changes only the other groups they are in, on accounts they may act
// on (actingOnRefusal); nobody changes their own memberships; and no change may leave every admin
// shut out of the policy editor (the lockout guard, as for a publish).

export const groupIdSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(GROUP_ID_PATTERN, "Use 1 to 63 lowercase letters, digits, - or _, starting with a letter or digit.");
const groupNameSchema = z.string().trim().min(1, "Give the group a name.").max(100, "Use at most 100 characters.");
const groupDescriptionSchema = z.string().trim().max(500, "Use at most 500 characters.");

export const newGroupSchema = z.object({ id: groupIdSchema, name: groupNameSchema, description: groupDescriptionSchema.default("") });
export const groupDetailsSchema = z.object({ name: groupNameSchema, description: groupDescriptionSchema.default("") });

export type GroupChangeResult = { ok: true; email?: string } | { ok: false; message: string; field?: "email" | "id" };

const NO_SUCH_GROUP = "That group does not exist.";
const NOT_A_MEMBER = "That account is not in this group.";
const ADMIN_ONLY = "Only an admin makes, renames or deletes groups.";

export async function listGroups() {
  const groups = await db().group.findMany({ orderBy: { id: "asc" }, select: { id: true, name: true, description: true, createdAt: true, _count: { select: { members: true } } } });
  return groups.map(({ _count, ...group }) => ({ ...group, memberCount: _count.members }));
}

/** A group with its members (email order) and the policies in force that name it; null if there is no such group. */
export async function findGroup(groupId: string) {
  const group = await db().group.findUnique({
    where: { id: groupId },
    select: {
      id: true, name: true, description: true, createdAt: true,
      members: { select: { addedAt: true, user: { select: { id: true, email: true, name: true, disabledAt: true } } }, orderBy: { user: { email: "asc" } } },
    },
  });
  if (!group) return null;
  const namedBy = (await groupsNamedNow()).get(groupId) ?? [];
  return { ...group, namedBy, members: group.members.map((m) => ({ ...m.user, addedAt: m.addedAt })) };
}

/** The groups a user is in, for their page in the console. */
export async function groupsOfUser(userId: string) {
  const rows = await db().groupMember.findMany({ where: { userId }, orderBy: { groupId: "asc" }, select: { addedAt: true, group: { select: { id: true, name: true } } } });
  return rows.map((row) => ({ ...row.group, addedAt: row.addedAt }));
}

/** A refusal of `action` to `actor`, audited (blocked) on `resource` with the reason. */
async function refused(ctx: AuditContext, action: string, resource: { type: string; id: string }, reason: string, message: string, metadata: Record<string, unknown> = {}): Promise<{ ok: false; message: string }> {
  await audit(ctx, { type: "admin", action, outcome: "blocked", resource, metadata: { reason, ...metadata } });
  return { ok: false, message };
}

export async function createGroup(input: z.infer<typeof newGroupSchema>, actor: Granter, ctx: AuditContext): Promise<GroupChangeResult> {
  if (!actor.roles.includes("admin")) return refused(ctx, "group.create", { type: "group", id: input.id }, "admin_only", ADMIN_ONLY);
  try {
    await db().group.create({ data: input });
  } catch (error) {
    if (isUniqueViolation(error)) return { ok: false, message: `A group with the id ${input.id} already exists.`, field: "id" };
    throw error;
  }
  await audit(ctx, { type: "admin", action: "group.create", outcome: "success", resource: { type: "group", id: input.id }, metadata: { name: input.name } });
  return { ok: true };
}

/** Renames or re-describes a group; its id, which policies and apps know it by, stays. */
export async function updateGroup(groupId: string, input: z.infer<typeof groupDetailsSchema>, actor: Granter, ctx: AuditContext): Promise<GroupChangeResult> {
  if (!actor.roles.includes("admin")) return refused(ctx, "group.update", { type: "group", id: groupId }, "admin_only", ADMIN_ONLY);
  const before = await db().group.findUnique({ where: { id: groupId }, select: { name: true, description: true } });
  if (!before) return { ok: false, message: NO_SUCH_GROUP };
  // Deleted since it was read: nothing to rename.
  if (!(await db().group.updateMany({ where: { id: groupId }, data: input })).count) return { ok: false, message: NO_SUCH_GROUP };
  const changed = (["name", "description"] as const).filter((field) => before[field] !== input[field]);
  if (changed.length) {
    await audit(ctx, {
      type: "admin", action: "group.update", outcome: "success", resource: { type: "group", id: groupId },
      metadata: Object.fromEntries(changed.map((field) => [field, { before: before[field], after: input[field] }])),
    });
  }
  return { ok: true };
}

type Refusal = { ok: false; message: string; reason: string };

/**
 * Runs `apply` as one of the changes of who can reach the console (takeAdminAccessLock: one at a
 * time), holding the group's row lock. When the newest policies name the group, membership is
 * power: only an admin changes it, and not if it would leave no admin a way back to the policy
 * editor from the actor's address (the lockout guard; `regroup` gives an admin's groups after it).
 */
async function changingMembers<T>(groupId: string, actor: Granter, ctx: AuditContext, regroup: (admin: { userId: string; groups: readonly string[] }) => readonly string[], apply: (tx: Prisma.TransactionClient) => Promise<T>): Promise<{ ok: true; value: T } | Refusal> {
  return db().$transaction(async (tx) => {
    // First: what is read below (the newest policies, the admins, the account) is then as the
    // change before this one left it.
    await takeAdminAccessLock(tx);
    try {
      await requireActorUnchanged(tx, actor);
    } catch (error) {
      if (error instanceof RoleGrantError) return { ok: false, message: error.message, reason: "actor_changed" } as const;
      throw error;
    }
    const named = (await groupsNamedNow(tx)).has(groupId);
    if (named && !actor.roles.includes("admin")) return { ok: false, message: "Only an admin changes who is in a group the policies name.", reason: "group_named_by_policies" } as const;
    if (!(await lockGroup(tx, groupId))) return { ok: false, message: NO_SUCH_GROUP, reason: "no_such_group" } as const;
    if (named) {
      const before = await listActiveAdmins(tx);
      const lockout = await lockoutOfChange(before, before.map((admin) => ({ ...admin, groups: regroup(admin) })), ctx.client?.ip ?? null, tx);
      if (lockout) return { ok: false, message: lockout, reason: "lockout_guard" } as const;
    }
    return { ok: true, value: await apply(tx) } as const;
  }, ADMIN_ACCESS_TRANSACTION);
}

/** A refusal from changingMembers, audited (refused) unless it is only that the group is gone. */
async function auditedRefusal(refusal: Refusal, ctx: AuditContext, action: string, resource: { type: string; id: string }, groupId: string): Promise<GroupChangeResult> {
  return refusal.reason === "no_such_group" ? refusal : refused(ctx, action, resource, refusal.reason, refusal.message, { group: groupId });
}

/** Deletes a group and its memberships; the audit event lists the members it had. */
export async function deleteGroup(groupId: string, actor: Granter, ctx: AuditContext): Promise<GroupChangeResult> {
  const resource = { type: "group", id: groupId };
  if (!actor.roles.includes("admin")) return refused(ctx, "group.delete", resource, "admin_only", ADMIN_ONLY);
  const deleted = await changingMembers(groupId, actor, ctx, (admin) => admin.groups.filter((g) => g !== groupId), async (tx) => {
    const group = await tx.group.findUniqueOrThrow({ where: { id: groupId }, select: { name: true, members: { select: { user: { select: { email: true } } } } } });
    await tx.group.delete({ where: { id: groupId } });
    return { name: group.name, members: group.members.map((m) => m.user.email).sort() };
  });
  if (!deleted.ok) return auditedRefusal(deleted, ctx, "group.delete", resource, groupId);
  await audit(ctx, { type: "admin", action: "group.delete", outcome: "success", resource, metadata: deleted.value });
  return { ok: true };
}

/** Takes the group's row lock for the transaction; false if there is no such group. */
async function lockGroup(tx: Prisma.TransactionClient, groupId: string): Promise<boolean> {
  return (await tx.$queryRaw<unknown[]>`SELECT id FROM groups WHERE id = ${groupId} FOR UPDATE`).length > 0;
}

/**
 * Why `actor` may not change whether `userId` is in `groupId` (audited as `action`), or null; a
 * group the policies name is changingMembers' to judge.
 */
async function membershipRefusal(actor: Granter, groupId: string, userId: string, action: string, ctx: AuditContext): Promise<string | null> {
  const on = { type: "user", id: userId };
  if (userId === actor.id) return (await refused(ctx, action, on, "own_membership", "You cannot change your own group memberships: ask another admin.", { group: groupId })).message;
  if (!actor.roles.includes("admin") && !actor.groups.includes(groupId)) {
    return (await refused(ctx, action, on, "actor_not_in_group", "Only an admin, or a member of this group, can change who is in it.", { group: groupId })).message;
  }
  return actingOnRefusal(actor, userId, action, ctx);
}

/** Adds the account with this email to the group. */
export async function addMember(groupId: string, email: string, actor: Granter, ctx: AuditContext): Promise<GroupChangeResult> {
  const user = await db().user.findUnique({ where: { email }, select: { id: true, email: true } });
  if (!user) return { ok: false, message: `No account has the email ${email}.`, field: "email" };
  if (!(await db().group.count({ where: { id: groupId } }))) return { ok: false, message: NO_SUCH_GROUP };
  const refusal = await membershipRefusal(actor, groupId, user.id, "group.member.add", ctx);
  if (refusal) return { ok: false, message: refusal };
  const regroup = (admin: { userId: string; groups: readonly string[] }) => (admin.userId === user.id ? [...admin.groups, groupId] : admin.groups);
  const added = await changingMembers(groupId, actor, ctx, regroup, async (tx) => {
    // The account may have been deleted since: nothing to add, rather than a foreign-key failure.
    const rows = await tx.$executeRaw`INSERT INTO group_members (group_id, user_id) SELECT ${groupId}, id FROM users WHERE id = ${user.id}::uuid ON CONFLICT DO NOTHING`;
    return rows;
  });
  if (!added.ok) return auditedRefusal(added, ctx, "group.member.add", { type: "user", id: user.id }, groupId);
  if (!added.value) return { ok: false, message: `${user.email} is in this group already.`, field: "email" };
  await audit(ctx, { type: "admin", action: "group.member.add", outcome: "success", resource: { type: "user", id: user.id }, metadata: { group: groupId, email: user.email } });
  return { ok: true, email: user.email };
}

export async function removeMember(groupId: string, userId: string, actor: Granter, ctx: AuditContext): Promise<GroupChangeResult> {
  const member = await db().groupMember.findUnique({ where: { groupId_userId: { groupId, userId } }, select: { user: { select: { email: true } } } });
  if (!member) return { ok: false, message: NOT_A_MEMBER };
  const refusal = await membershipRefusal(actor, groupId, userId, "group.member.remove", ctx);
  if (refusal) return { ok: false, message: refusal };
  const regroup = (admin: { userId: string; groups: readonly string[] }) => (admin.userId === userId ? admin.groups.filter((g) => g !== groupId) : admin.groups);
  const removed = await changingMembers(groupId, actor, ctx, regroup, async (tx) => (await tx.groupMember.deleteMany({ where: { groupId, userId } })).count);
  if (!removed.ok) return auditedRefusal(removed, ctx, "group.member.remove", { type: "user", id: userId }, groupId);
  if (!removed.value) return { ok: false, message: NOT_A_MEMBER };
  await audit(ctx, { type: "admin", action: "group.member.remove", outcome: "success", resource: { type: "user", id: userId }, metadata: { group: groupId, email: member.user.email } });
  return { ok: true, email: member.user.email };
}
