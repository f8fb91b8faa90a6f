import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit";
import { readConfig } from "../config";
import { mailConfigured, sendMail, type Mail } from "../mail";
import { bumpCounter } from "../rate-limit/counters";
import { hashPassword, newPasswordSchema } from "./password";
import { endAllSessions } from "./sessions";
import { recordSignInSuccess } from "./throttle";
import { emailSchema, storeNewPassword } from "./users";

// Self-service password recovery: a one-time link, valid for 30 minutes, sent to the account's
// address. The answer to a request is the same whether or not the account exists, and the mail is
// sent after the answer, so neither the words nor the timing tell who has an account. Only the
// SHA-256 of the link's token is stored. The new password is a first factor only: a user with a
// second factor still needs it at the next sign-in. Every session of the user ends.

const LINK_TTL_MS = 30 * 60_000;
const REQUEST_WINDOW_MS = 60 * 60_000;
const REQUESTS_PER_ACCOUNT = 3;
const REQUESTS_PER_IP = 10;

export const recoveryAvailable = mailConfigured;
export const recoveryRequestSchema = z.object({ email: emailSchema });

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");
const appUrl = (path: string) => new URL(path, readConfig().GATEHOUSE_URL ?? "http://localhost:3000").href;

type Delivery = Promise<void> | null;

/** Sends without failing the caller: a refused delivery is logged (without the link). */
const deliver = (what: string, mail: Mail): Promise<void> =>
  sendMail(mail).then(
    () => undefined,
    (error: unknown) => console.error(`Sending ${what} failed:`, error instanceof Error ? error.message : error),
  );

/**
 * Sends a recovery link if the address belongs to an enabled account and the requests are within
 * their limits. Returns the mail's delivery, which the caller need not wait for (an action does
 * not: its answer goes out first); a failed delivery is logged.
 */
export async function requestPasswordRecovery(email: string, ctx: AuditContext, now = new Date()): Promise<{ delivery: Delivery }> {
  const user = await db().user.findUnique({ where: { email }, select: { id: true, email: true, name: true, disabledAt: true } });
  const actorCtx: AuditContext = { actor: { type: "user", id: user?.id ?? null, label: email }, client: ctx.client };
  const event = (outcome: "success" | "failure" | "blocked", metadata: Record<string, string | number>) =>
    audit(actorCtx, { type: "authentication", action: "password.recovery.request", outcome, resource: user ? { type: "user", id: user.id } : null, metadata });

  const [forAccount, forIp] = await Promise.all([
    bumpCounter(`recovery:acct:${sha256(email)}`, REQUEST_WINDOW_MS, now),
    ctx.client?.ip ? bumpCounter(`recovery:ip:${ctx.client.ip}`, REQUEST_WINDOW_MS, now) : { count: 0 },
  ]);
  if (forAccount.count > REQUESTS_PER_ACCOUNT || forIp.count > REQUESTS_PER_IP) {
    await event("blocked", { reason: forAccount.count > REQUESTS_PER_ACCOUNT ? "too_many_for_account" : "too_many_from_ip" });
    return { delivery: null };
  }
  if (!user || user.disabledAt || !mailConfigured()) {
    await event("failure", { reason: !user ? "unknown_account" : user.disabledAt ? "disabled" : "email_not_configured" });
    return { delivery: null };
  }

  const token = randomBytes(32).toString("base64url");
  // A new link replaces the unused ones: only the latest mail works.
  await db().$transaction([
    db().passwordResetToken.deleteMany({ where: { userId: user.id, usedAt: null } }),
    db().passwordResetToken.create({ data: { tokenHash: sha256(token), userId: user.id, createdAt: now, expiresAt: new Date(now.getTime() + LINK_TTL_MS) } }),
  ]);
  await event("success", { expiresInMinutes: LINK_TTL_MS / 60_000 });
  const link = appUrl(`/sign-in/reset?token=${token}`);
  return {
    delivery: deliver("a password recovery link", {
      to: user.email,
      subject: "Reset your Gatehouse password",
      text: `Hello ${user.name},\n\nSomeone (we hope you) asked to reset the password of your Gatehouse account.\nOpen this link within 30 minutes to choose a new one; it works once:\n\n${link}\n\nIf it was not you, ignore this mail: your password stays as it is.\n`,
    }),
  };
}

/** The account a recovery link is for, if it is unused, unexpired and the account enabled. */
export async function recoveryLinkAccount(token: string, now = new Date()): Promise<{ email: string } | null> {
  const row = await db().passwordResetToken.findUnique({ where: { tokenHash: sha256(token) }, select: { usedAt: true, expiresAt: true, user: { select: { email: true, disabledAt: true } } } });
  return row && !row.usedAt && row.expiresAt > now && !row.user.disabledAt ? { email: row.user.email } : null;
}

export type RecoveryResult = { ok: true; email: string; delivery: Delivery } | { ok: false; reason: "invalid_link" | "invalid_password" };

/** Sets a new password with a recovery link, once; ends every session of the user. */
export async function resetPasswordWithLink(token: string, newPassword: string, ctx: AuditContext, now = new Date()): Promise<RecoveryResult> {
  if (!newPasswordSchema.safeParse(newPassword).success) return { ok: false, reason: "invalid_password" };
  const tokenHash = sha256(token);
  const passwordHash = await hashPassword(newPassword);
  const user = await db().$transaction(async (tx) => {
    // Spent in the same transaction as the password is set: two requests with one link, one wins.
    const { count } = await tx.passwordResetToken.updateMany({ where: { tokenHash, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    if (count !== 1) return null;
    const { user } = await tx.passwordResetToken.findUniqueOrThrow({ where: { tokenHash }, select: { user: { select: { id: true, email: true, name: true, disabledAt: true } } } });
    if (user.disabledAt) return null;
    await storeNewPassword(tx, user.id, passwordHash, now);
    return user;
  });
  if (!user) {
    await audit(ctx, { type: "authentication", action: "password.recovery.complete", outcome: "failure", metadata: { reason: "invalid_link" } });
    return { ok: false, reason: "invalid_link" };
  }
  const userCtx: AuditContext = { actor: { type: "user", id: user.id, label: user.email }, client: ctx.client };
  await audit(userCtx, { type: "authentication", action: "password.recovery.complete", outcome: "success", resource: { type: "user", id: user.id } });
  await endAllSessions(user.id, "password_changed", userCtx);
  // The failed passwords that may have led here no longer lock the account (a deliberate lock stays).
  await recordSignInSuccess(user.email);
  const delivery = deliver("a password change notice", {
    to: user.email,
    subject: "Your Gatehouse password was changed",
    text: `Hello ${user.name},\n\nThe password of your Gatehouse account was just reset with a link sent to this address, and every session was signed out.\nIf this was not you, contact your administrator at once.\n`,
  });
  return { ok: true, email: user.email, delivery };
}
