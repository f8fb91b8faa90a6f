"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { emailSchema, guardedAction } from "@/lib/auth";
import { addMember, createGroup, deleteGroup, groupDetailsSchema, groupIdSchema, newGroupSchema, removeMember, updateGroup, type GroupChangeResult } from "@/lib/groups";

// Groups are part of managing users. Membership can be power (policies grant and deny by group),
// so changing it needs a fresh second factor and a reason, like roles; naming a group does not.
const MANAGE = { section: "users", action: "manage" } as const;
const CHANGES_ACCESS = { stepUp: true, askReason: true } as const;

/** lib/groups' answer as the form's: a refusal about a field (the email, the id) goes by it. */
const answered = (result: Extract<GroupChangeResult, { ok: false }>) => (result.field ? { ok: false, fieldErrors: { [result.field]: [result.message] } } : result);

export const createGroupAction = guardedAction(MANAGE, newGroupSchema, async (input, admin, ctx) => {
  const result = await createGroup(input, admin, ctx);
  if (!result.ok) return answered(result);
  revalidatePath("/admin/groups");
  redirect(`/admin/groups/${input.id}`);
});

export const updateGroupAction = guardedAction(MANAGE, groupDetailsSchema.extend({ groupId: groupIdSchema }), async ({ groupId, ...details }, admin, ctx) => {
  const result = await updateGroup(groupId, details, admin, ctx);
  if (!result.ok) return answered(result);
  revalidatePath(`/admin/groups/${groupId}`);
  return { ok: true, message: "Saved." };
});

const deleteGroupForm = z.object({ groupId: groupIdSchema, confirmId: z.string().trim().toLowerCase().max(63).default("") });

export const deleteGroupAction = guardedAction(MANAGE, deleteGroupForm, async ({ groupId, confirmId }, admin, ctx) => {
  if (confirmId !== groupId) return { ok: false, fieldErrors: { confirmId: [`Type ${groupId} to confirm.`] } };
  const result = await deleteGroup(groupId, admin, ctx);
  if (!result.ok) return answered(result);
  revalidatePath("/admin/groups");
  redirect("/admin/groups");
}, CHANGES_ACCESS);

export const addMemberAction = guardedAction(MANAGE, z.object({ groupId: groupIdSchema, email: emailSchema }), async ({ groupId, email }, admin, ctx) => {
  const result = await addMember(groupId, email, admin, ctx);
  if (!result.ok) return answered(result);
  revalidatePath(`/admin/groups/${groupId}`);
  return { ok: true, message: `Added ${result.email}.` };
}, CHANGES_ACCESS);

export const removeMemberAction = guardedAction(MANAGE, z.object({ groupId: groupIdSchema, userId: z.uuid() }), async ({ groupId, userId }, admin, ctx) => {
  const result = await removeMember(groupId, userId, admin, ctx);
  if (!result.ok) return answered(result);
  revalidatePath(`/admin/groups/${groupId}`);
  return { ok: true, message: `Removed ${result.email}.` };
}, CHANGES_ACCESS);
