"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import type { AuditContext } from "@/lib/audit";
import { redirect } from "next/navigation";
import {
  actingOnRefusal, changeEmail, createUser, deleteUser, emailSchema, EmailTakenError, findUser, endAllSessions, endSession, guardedAction, LastAdminError, manyValues, newPasswordSchema, NoSuchUserError,
  newUserSchema, PasswordRefusedError, resetUserMfa, RoleGrantError, ROLES, rolesSchema, type Granter, setDisabled, setRoles, setTemporaryPassword, unlockSignIn,
} from "@/lib/auth";

const MANAGE = { section: "users", action: "manage" } as const;
// Giving access (a new account, a role, an account enabled or unlocked again) needs a fresh second
// factor: a stolen admin session cookie alone must not mint a new admin. Taking access away does not,
// so that it stays quick in an incident.
const GIVES_ACCESS = { stepUp: true } as const;

// Changes of someone's access say why (askReason): the reason is on every audit event they write.
const WITH_REASON = { askReason: true } as const;

/** The answer when the caller may not act on this account (see actingOnRefusal), else null. */
async function refusedOn(actor: Granter, userId: string, action: string, ctx: AuditContext) {
  const message = await actingOnRefusal(actor, userId, action, ctx);
  return message ? { ok: false, message } : null;
}

const createUserForm = newUserSchema.extend({ roles: manyValues(z.enum(ROLES)).pipe(rolesSchema), replaceAtFirstSignIn: z.literal("on").optional() });

export const createUserAction = guardedAction(MANAGE, createUserForm, async ({ replaceAtFirstSignIn, ...input }, admin, ctx) => {
  try {
    const user = await createUser(input, ctx, admin, { temporaryPassword: replaceAtFirstSignIn === "on" });
    revalidatePath("/admin/users");
    return { ok: true, message: replaceAtFirstSignIn ? `Created ${user.email}. They choose their own password at first sign-in.` : `Created ${user.email}.` };
  } catch (error) {
    if (error instanceof EmailTakenError) return { ok: false, fieldErrors: { email: [error.message] } };
    if (error instanceof PasswordRefusedError) return { ok: false, fieldErrors: { password: [error.message] } };
    if (error instanceof RoleGrantError) return { ok: false, fieldErrors: { roles: [error.message] } };
    throw error;
  }
}, GIVES_ACCESS);

const setRolesForm = z.object({ userId: z.uuid(), roles: manyValues(z.enum(ROLES)).pipe(rolesSchema) });

export const setRolesAction = guardedAction(MANAGE, setRolesForm, async ({ userId, roles }, admin, ctx) => {
  // Taking an admin's roles away would make the account one the caller may then act on.
  const refused = await refusedOn(admin, userId, "user.roles.update", ctx);
  if (refused) return refused;
  try {
    await setRoles(userId, roles, ctx, admin);
  } catch (error) {
    if (error instanceof LastAdminError || error instanceof NoSuchUserError || error instanceof RoleGrantError) return { ok: false, message: error.message };
    throw error;
  }
  revalidatePath(`/admin/users/${userId}`);
  return { ok: true, message: "Roles saved." };
}, { ...GIVES_ACCESS, ...WITH_REASON });

const setDisabledForm = z.object({ userId: z.uuid(), disabled: z.enum(["true", "false"]).transform((v) => v === "true") });

export const setDisabledAction = guardedAction(MANAGE, setDisabledForm, async ({ userId, disabled }, admin, ctx) => {
  const refused = await refusedOn(admin, userId, disabled ? "user.disable" : "user.enable", ctx);
  if (refused) return refused;
  let changed: boolean;
  try {
    ({ changed } = await setDisabled(userId, disabled, ctx, admin));
  } catch (error) {
    if (error instanceof LastAdminError || error instanceof NoSuchUserError || error instanceof RoleGrantError) return { ok: false, message: error.message };
    throw error;
  }
  revalidatePath(`/admin/users/${userId}`);
  if (!disabled) return { ok: true, message: changed ? "Account enabled." : "The account was enabled already." };
  return { ok: true, message: changed ? "Account disabled and signed out everywhere." : "The account was disabled already; it is signed out everywhere." };
}, { stepUp: ({ disabled }) => !disabled, ...WITH_REASON });

// A new sign-in email is where recovery links go from now on: it gives access, like a role.
export const changeEmailAction = guardedAction(MANAGE, z.object({ userId: z.uuid(), email: emailSchema }), async ({ userId, email }, admin, ctx) => {
  const refused = await refusedOn(admin, userId, "user.email.change", ctx);
  if (refused) return refused;
  try {
    if (!(await changeEmail(userId, email, ctx, admin))) return { ok: false, fieldErrors: { email: ["That is the account's email already."] } };
  } catch (error) {
    if (error instanceof EmailTakenError) return { ok: false, fieldErrors: { email: [error.message] } };
    if (error instanceof RoleGrantError) return { ok: false, fieldErrors: { email: [error.message] } };
    if (error instanceof NoSuchUserError || error instanceof LastAdminError) return { ok: false, message: error.message };
    throw error;
  }
  revalidatePath(`/admin/users/${userId}`);
  return { ok: true, message: `The account now signs in as ${email}. The previous address is told of the change.` };
}, { ...GIVES_ACCESS, ...WITH_REASON });

const deleteUserForm = z.object({ userId: z.uuid(), confirmEmail: z.string().trim().toLowerCase().max(254) });

export const deleteUserAction = guardedAction(MANAGE, deleteUserForm, async ({ userId, confirmEmail }, admin, ctx) => {
  const user = await findUser(userId);
  if (!user) return { ok: false, message: "That user does not exist." };
  if (confirmEmail !== user.email) return { ok: false, fieldErrors: { confirmEmail: [`Type ${user.email} to confirm.`] } };
  try {
    await deleteUser(userId, ctx, admin);
  } catch (error) {
    if (error instanceof RoleGrantError || error instanceof NoSuchUserError || error instanceof LastAdminError) return { ok: false, message: error.message };
    throw error;
  }
  revalidatePath("/admin/users");
  redirect("/admin/users");
}, { stepUp: true, ...WITH_REASON });

export const unlockSignInAction = guardedAction(MANAGE, z.object({ userId: z.uuid() }), async ({ userId }, admin, ctx) => {
  const refused = await refusedOn(admin, userId, "account.unlock", ctx);
  if (refused) return refused;
  try {
    const unlocked = await unlockSignIn(userId, ctx, admin);
    revalidatePath(`/admin/users/${userId}`);
    return unlocked ? { ok: true, message: "Lock lifted." } : { ok: false, message: "This account is not locked." };
  } catch (error) {
    if (error instanceof NoSuchUserError || error instanceof RoleGrantError) return { ok: false, message: error.message };
    throw error;
  }
}, { ...GIVES_ACCESS, ...WITH_REASON });

export const setTemporaryPasswordAction = guardedAction(MANAGE, z.object({ userId: z.uuid(), temporaryPassword: newPasswordSchema }), async ({ userId, temporaryPassword }, admin, ctx) => {
  const refused = await refusedOn(admin, userId, "password.temporary_set", ctx);
  if (refused) return refused;
  try {
    await setTemporaryPassword(userId, temporaryPassword, ctx, admin);
  } catch (error) {
    if (error instanceof NoSuchUserError || error instanceof RoleGrantError) return { ok: false, message: error.message };
    if (error instanceof PasswordRefusedError) return { ok: false, fieldErrors: { temporaryPassword: [error.message] } };
    throw error;
  }
  revalidatePath(`/admin/users/${userId}`);
  return { ok: true, message: "Temporary password set and every session signed out. Give it to the user by a channel you trust; they choose their own at the next sign-in." };
}, { ...GIVES_ACCESS, ...WITH_REASON });

export const revokeUserSessionAction = guardedAction(MANAGE, z.object({ userId: z.uuid(), sessionId: z.uuid() }), async ({ userId, sessionId }, admin, ctx) => {
  const refused = await refusedOn(admin, userId, "session.revoke", ctx);
  if (refused) return refused;
  const ended = await endSession(userId, sessionId, "revoked_by_admin", ctx);
  revalidatePath(`/admin/users/${userId}`);
  return ended ? { ok: true, message: "Session signed out." } : { ok: false, message: "That session is not active." };
}, WITH_REASON);

export const revokeAllUserSessionsAction = guardedAction(MANAGE, z.object({ userId: z.uuid() }), async ({ userId }, admin, ctx) => {
  const refused = await refusedOn(admin, userId, "session.revoke_all", ctx);
  if (refused) return refused;
  if (!(await findUser(userId))) return { ok: false, message: new NoSuchUserError().message };
  const count = await endAllSessions(userId, "revoked_by_admin", ctx);
  revalidatePath(`/admin/users/${userId}`);
  return { ok: true, message: `${count} session${count === 1 ? "" : "s"} signed out.` };
}, WITH_REASON);

const resetMfaForm = z.object({
  userId: z.uuid(),
  reason: z.string().trim().min(10, "Say why, in at least 10 characters: it goes into the audit trail.").max(500),
});

export const resetMfaAction = guardedAction(
  MANAGE,
  resetMfaForm,
  async ({ userId, reason }, admin, ctx) => {
    const refused = await refusedOn(admin, userId, "mfa.reset", ctx);
    if (refused) return refused;
    let ended: number;
    try {
      // The reason is the justification of every event the reset writes (sessions ended, apps' grants revoked), as askReason gives other actions.
      ended = await resetUserMfa(userId, reason, { ...ctx, justification: reason }, admin);
    } catch (error) {
      if (error instanceof NoSuchUserError || error instanceof RoleGrantError) return { ok: false, message: error.message };
      throw error;
    }
    revalidatePath(`/admin/users/${userId}`);
    return { ok: true, message: `Second factors, backup codes and remembered devices removed; ${ended} session${ended === 1 ? "" : "s"} signed out. The user sets up a factor again at next sign-in if their role requires one.` };
  },
  { stepUp: true },
);
