import "server-only";
import { z } from "zod";
import { db, isUniqueViolation, type Prisma } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { actingOnRefusal, listActiveAdmins, type Granter } from "../auth/users";
import { groupsNamedInForce, lockoutInForce } from "../policy/store";
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

export class GroupIdTakenError extends Error {}

export type GroupChangeResult = { ok: true; email?: string } | { ok: false; message: string; field?: "email" };

const NO_SUCH_GROUP = "That group does not exist.";
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
  const namedBy = (await groupsNamedInForce()).get(groupId) ?? [];
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
    if (isUniqueViolation(error)) throw new GroupIdTakenError(`A group with the id ${input.id} already exists.`);
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
  await db().group.update({ where: { id: groupId }, data: input });
  const changed = (["name", "description"] as const).filter((field) => before[field] !== input[field]);
  if (changed.length) {
    await audit(ctx, {
      type: "admin", action: "group.update", outcome: "success", resource: { type: "group", id: groupId },
      metadata: Object.fromEntries(changed.map((field) => [field, { before: before[field], after: input[field] }])),
    });
  }
  return { ok: true };
}

/**
 * The lockout guard for a change of who is in `groupId`, when it changes an admin's groups and
 * the policies in force name the group (else it cannot shut anyone out). `change` gives an
 * admin's groups after it.
 */
async function lockoutRefusal(groupId: string, change: (admin: { userId: string; groups: readonly string[] }) => readonly string[], ctx: AuditContext): Promise<string | null> {
  if (!(await groupsNamedInForce()).has(groupId)) return null;
  const before = await listActiveAdmins();
  const after = before.map((admin) => ({ ...admin, groups: change(admin) }));
  if (after.every((admin, i) => admin.groups.length === before[i]!.groups.length)) return null;
  return lockoutInForce(after, ctx.client?.ip ?? null);
}

/** Deletes a group and its memberships; the audit event lists the members it had. */
export async function deleteGroup(groupId: string, actor: Granter, ctx: AuditContext): Promise<GroupChangeResult> {
  const resource = { type: "group", id: groupId };
  if (!actor.roles.includes("admin")) return refused(ctx, "group.delete", resource, "admin_only", ADMIN_ONLY);
  const lockout = await lockoutRefusal(groupId, (admin) => admin.groups.filter((g) => g !== groupId), ctx);
  if (lockout) return refused(ctx, "group.delete", resource, "lockout_guard", lockout);
  const deleted = await db().$transaction(async (tx) => {
    // Locked, so a member added at this moment is either listed below or refused.
    if (!(await lockGroup(tx, groupId, "UPDATE"))) return null;
    const group = await tx.group.findUniqueOrThrow({ where: { id: groupId }, select: { name: true, members: { select: { user: { select: { email: true } } } } } });
    await tx.group.delete({ where: { id: groupId } });
    return { name: group.name, members: group.members.map((m) => m.user.email).sort() };
  });
  if (!deleted) return { ok: false, message: NO_SUCH_GROUP };
  await audit(ctx, { type: "admin", action: "group.delete", outcome: "success", resource, metadata: deleted });
  return { ok: true };
}

/** Takes the group's row lock for the transaction; false if there is no such group. */
async function lockGroup(tx: Prisma.TransactionClient, groupId: string, mode: "SHARE" | "UPDATE"): Promise<boolean> {
  const rows = mode === "UPDATE"
    ? await tx.$queryRaw<unknown[]>`SELECT id FROM groups WHERE id = ${groupId} FOR UPDATE`
    : await tx.$queryRaw<unknown[]>`SELECT id FROM groups WHERE id = ${groupId} FOR SHARE`;
  return rows.length > 0;
}

/** Why `actor` may not change whether `userId` is in `groupId` (audited as `action`), or null. */
async function membershipRefusal(actor: Granter, groupId: string, userId: string, action: string, ctx: AuditContext): Promise<string | null> {
  const on = { type: "user", id: userId };
  if (userId === actor.id) return (await refused(ctx, action, on, "own_membership", "You cannot change your own group memberships: ask another admin.", { group: groupId })).message;
  if (!actor.roles.includes("admin")) {
    if ((await groupsNamedInForce()).has(groupId)) {
      return (await refused(ctx, action, on, "group_named_by_policies", "Only an admin changes who is in a group the policies name.", { group: groupId })).message;
    }
    if (!actor.groups.includes(groupId)) return (await refused(ctx, action, on, "actor_not_in_group", "Only an admin, or a member of this group, can change who is in it.", { group: groupId })).message;
  }
  return actingOnRefusal(actor, userId, action, ctx);
}

/** Adds the account with this email to the group. */
export async function addMember(groupId: string, email: string, actor: Granter, ctx: AuditContext): Promise<GroupChangeResult> {
  const user = await db().user.findUnique({ where: { email }, select: { id: true, email: true } });
  if (!user) return { ok: false, message: `No account has the email ${email}.`, field: "email" };
  if (!(await db().group.count({ where: { id: groupId } }))) return { ok: false, message: NO_SUCH_GROUP };
  const refusal = (await membershipRefusal(actor, groupId, user.id, "group.member.add", ctx))
    ?? (await lockoutRefusal(groupId, (admin) => (admin.userId === user.id ? [...admin.groups, groupId] : admin.groups), ctx));
  if (refusal) return { ok: false, message: refusal };
  const added = await db().$transaction(async (tx) => {
    if (!(await lockGroup(tx, groupId, "SHARE"))) return null;
    return (await tx.groupMember.createMany({ data: [{ groupId, userId: user.id }], skipDuplicates: true })).count;
  });
  if (added === null) return { ok: false, message: NO_SUCH_GROUP };
  if (!added) return { ok: false, message: `${user.email} is in this group already.`, field: "email" };
  await audit(ctx, { type: "admin", action: "group.member.add", outcome: "success", resource: { type: "user", id: user.id }, metadata: { group: groupId, email: user.email } });
  return { ok: true, email: user.email };
}

export async function removeMember(groupId: string, userId: string, actor: Granter, ctx: AuditContext): Promise<GroupChangeResult> {
  const member = await db().groupMember.findUnique({ where: { groupId_userId: { groupId, userId } }, select: { user: { select: { email: true } } } });
  if (!member) return { ok: false, message: "That account is not in this group." };
  const refusal = (await membershipRefusal(actor, groupId, userId, "group.member.remove", ctx))
    ?? (await lockoutRefusal(groupId, (admin) => (admin.userId === userId ? admin.groups.filter((g) => g !== groupId) : admin.groups), ctx));
  if (refusal) return { ok: false, message: refusal };
  const { count } = await db().groupMember.deleteMany({ where: { groupId, userId } });
  if (!count) return { ok: false, message: "That account is not in this group." };
  await audit(ctx, { type: "admin", action: "group.member.remove", outcome: "success", resource: { type: "user", id: userId }, metadata: { group: groupId, email: member.user.email } });
  return { ok: true, email: member.user.email };
}
