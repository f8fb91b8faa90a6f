import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit";
import { publicUrl } from "../config";
import { mailConfigured, sendMailLogged } from "../mail";
import { bumpCounter, rateLimitAddress } from "../rate-limit/counters";
import { hashPassword, newPasswordSchema, passwordDistrusted, verifyPassword } from "./password";
import { screenNewPassword } from "./password-screening";
import { auditPasswordLockout, checkAccountLock, clearPasswordFailures, takePasswordTry } from "./throttle";
import { emailSchema, storeNewPassword, takeBackAccess } from "./users";
import { auditSessionsEnded } from "./sessions";
import { proveEmail } from "./email-verification";

// Self-service password recovery: a one-time link, valid for 30 minutes, sent to the account's
// address. The answer to a request is the same whether or not the account exists, and the work
// is done after the answer, so neither the words nor the timing tell who has an account. Only the
// SHA-256 of the link's token is stored, and only the latest link works; a password change, a
// disable or a required reset ends it. The new password is a first factor only: a user with a
// second factor still needs it at the next sign-in.

const LINK_TTL_MS = 30 * 60_000;
const REQUEST_WINDOW_MS = 60 * 60_000;
// Per account, from one address: enough for a person who mistyped or lost a mail. Per account in
// all: a cap on mail bombing a victim from many addresses, set well above the first so that one
// attacker's address cannot use up the owner's own requests (it would take several addresses).
const REQUESTS_PER_ACCOUNT_FROM_IP = 3;
const REQUESTS_PER_ACCOUNT = 10;
const REQUESTS_PER_IP = 10;
// Requests that send nothing (an unknown, disabled or locked account) are counted apart, so that
// mistyped addresses from one network (an office behind one address) never use up the requests
// that send mail; their cap only bounds what they write to the audit trail.
const UNSENT_REQUESTS_PER_IP = 100;
const RESETS_PER_IP = 20;

export const recoveryAvailable = mailConfigured;
export const recoveryRequestSchema = z.object({ email: emailSchema });

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

type Delivery = Promise<void> | null;

/**
 * Sends a recovery link if the address belongs to an enabled, unlocked account and the requests
 * are within their limits. Returns the mail's delivery (a failed one is logged). The server action
 * runs this after its answer has gone out (next/server's after), so how long it takes tells
 * nothing either.
 */
export async function requestPasswordRecovery(email: string, ctx: AuditContext, now = new Date()): Promise<{ delivery: Delivery }> {
  const user = await db().user.findUnique({ where: { email }, select: { id: true, email: true, name: true, disabledAt: true } });
  const actorCtx: AuditContext = { actor: { type: "user", id: user?.id ?? null, label: email }, client: ctx.client };
  const event = (outcome: "success" | "failure" | "blocked", metadata: Record<string, string | number>) =>
    audit(actorCtx, { type: "authentication", action: "password.recovery.request", outcome, resource: user ? { type: "user", id: user.id } : null, metadata });

  const refusal = !user ? "unknown_account" : user.disabledAt ? "disabled" : !mailConfigured() ? "email_not_configured" : (await locked(user.email, now)) ? "account_locked" : null;
  if (!user || refusal) {
    const { count } = await bumpCounter(`recovery:ip-unsent:${rateLimitAddress(ctx.client?.ip)}`, REQUEST_WINDOW_MS, now);
    // Past the cap, only the first is recorded: a flood of made-up addresses does not flood the trail.
    if (count <= UNSENT_REQUESTS_PER_IP) await event("failure", { reason: refusal! });
    else if (count === UNSENT_REQUESTS_PER_IP + 1) await event("blocked", { reason: "too_many_unsent_from_ip" });
    return { delivery: null };
  }
  const tooMany = await overRequestLimits(sha256(email), ctx.client?.ip ?? null, now);
  if (tooMany) {
    await event("blocked", { reason: tooMany });
    return { delivery: null };
  }

  const token = randomBytes(32).toString("base64url");
  const issued = await db().$transaction(async (tx) => {
    // The user's row lock serialises two requests at once, so only the latest link ever works; and
    // orders this against an admin changing the account's email: a link goes only to the address
    // the account has when it is stored.
    const [locked] = await tx.$queryRaw<{ email: string }[]>`SELECT email FROM users WHERE id = ${user.id}::uuid FOR UPDATE`;
    if (locked?.email !== user.email) return false;
    await tx.passwordResetToken.deleteMany({ where: { userId: user.id } });
    await tx.passwordResetToken.create({ data: { tokenHash: sha256(token), userId: user.id, createdAt: now, expiresAt: new Date(now.getTime() + LINK_TTL_MS) } });
    return true;
  });
  if (!issued) {
    await event("failure", { reason: "email_changed" });
    return { delivery: null };
  }
  await event("success", { expiresInMinutes: LINK_TTL_MS / 60_000 });
  const link = publicUrl(`/sign-in/reset?token=${token}`).href;
  return {
    delivery: sendMailLogged("a password recovery link", {
      to: user.email,
      subject: "Reset your Gatehouse password",
      text: `Hello ${user.name},\n\nSomeone (we hope you) asked to reset the password of your Gatehouse account.\nOpen this link within 30 minutes to choose a new one; it works once:\n\n${link}\n\nIf it was not you, ignore this mail: your password stays as it is.\n`,
    }),
  };
}

/**
 * Counts a request and names the limit it is over, if any. The account's total counts only the
 * requests its per-address limit let through: one address asking again and again must not use
 * up the total that the owner's own requests need.
 */
async function overRequestLimits(account: string, ip: string | null, now: Date): Promise<string | null> {
  const from = rateLimitAddress(ip);
  const [fromIpForAccount, fromIp] = await Promise.all([
    bumpCounter(`recovery:acct-ip:${account}:${from}`, REQUEST_WINDOW_MS, now),
    ip ? bumpCounter(`recovery:ip:${from}`, REQUEST_WINDOW_MS, now) : { count: 0 },
  ]);
  if (fromIpForAccount.count > REQUESTS_PER_ACCOUNT_FROM_IP) return "too_many_for_account_from_ip";
  if (fromIp.count > REQUESTS_PER_IP) return "too_many_from_ip";
  const forAccount = await bumpCounter(`recovery:acct:${account}`, REQUEST_WINDOW_MS, now);
  return forAccount.count > REQUESTS_PER_ACCOUNT ? "too_many_for_account" : null;
}

/** A deliberate lock (an incident's response, a blocked risky sign-in) stops recovery too. */
const locked = async (email: string, now: Date) => !(await checkAccountLock(email, now)).allowed;

/** `passwordDistrusted`: an admin or an incident required a new password (password.ts). */
type LiveLink = { userId: string; email: string; name: string; passwordHash: string | null; passwordDistrusted: boolean };

async function liveLink(token: string, now: Date): Promise<LiveLink | null> {
  const row = await db().passwordResetToken.findUnique({
    where: { tokenHash: sha256(token) },
    select: { usedAt: true, expiresAt: true, user: { select: { id: true, email: true, name: true, disabledAt: true, passwordResetRequiredAt: true, password: { select: { hash: true, changedAt: true } } } } },
  });
  if (!row || row.usedAt || row.expiresAt <= now || row.user.disabledAt || (await locked(row.user.email, now))) return null;
  const { user } = row;
  return { userId: user.id, email: user.email, name: user.name, passwordHash: user.password?.hash ?? null, passwordDistrusted: passwordDistrusted(user.passwordResetRequiredAt, user.password?.changedAt) };
}

/** The account a recovery link is for, if it is unused, unexpired and the account enabled and unlocked. */
export async function recoveryLinkAccount(token: string, now = new Date()): Promise<{ email: string } | null> {
  const link = await liveLink(token, now);
  return link ? { email: link.email } : null;
}

/**
 * Is the new password the current one? Telling so answers a guess of the current password, so
 * each comparison spends one of the account name's password tries, as a sign-in would (the try
 * that locks is audited as a sign-in's is): whoever holds a link cannot test guesses without
 * limit. With the tries used up the comparison is skipped rather than the reset refused: recovery
 * is how someone who locked themselves out gets back in; but a distrusted password (one an admin
 * or an incident required replaced, believed known to others) is always refused. A new password
 * set gives the tries back.
 */
async function sameAsCurrentPassword(link: LiveLink, newPassword: string, ctx: AuditContext, now: Date): Promise<boolean> {
  if (!link.passwordHash) return false;
  const tried = await takePasswordTry(link.email, now);
  if (!tried.allowed && !link.passwordDistrusted) return false;
  const same = await verifyPassword(link.passwordHash, newPassword);
  if (same && tried.locksIfWrong) await auditPasswordLockout(ctx, link.userId, "repeated_recovery_guesses");
  return same;
}

export type RecoveryResult =
  | { ok: true; email: string; delivery: Delivery }
  | { ok: false; reason: "invalid_link" | "invalid_password" | "same_password" | "too_many" }
  | { ok: false; reason: "unacceptable_password"; message: string };

/**
 * Sets a new password with a recovery link, once. Every session ends, and so do the apps' grants
 * and tokens and the remembered devices: whoever had the old password may have used it for them.
 * The new password must differ from the old one (a reset an admin required stays meaningful).
 */
export async function resetPasswordWithLink(token: string, newPassword: string, ctx: AuditContext, now = new Date()): Promise<RecoveryResult> {
  const audited = (reason: string, userId: string | null) =>
    audit(ctx, { type: "authentication", action: "password.recovery.complete", outcome: reason === "too_many" ? "blocked" : "failure", resource: userId ? { type: "user", id: userId } : null, metadata: { reason } });
  const fail = async (reason: "invalid_link" | "same_password" | "too_many", userId: string | null = null) => {
    await audited(reason, userId);
    return { ok: false, reason } as const;
  };
  if (!newPasswordSchema.safeParse(newPassword).success) return { ok: false, reason: "invalid_password" };
  // Hashing a password costs ~20 ms of CPU: only for a live link, and a bounded number per IP.
  if (ctx.client?.ip && (await bumpCounter(`recovery:reset-ip:${rateLimitAddress(ctx.client.ip)}`, REQUEST_WINDOW_MS, now)).count > RESETS_PER_IP) return fail("too_many");
  const link = await liveLink(token, now);
  if (!link) return fail("invalid_link");
  if (await sameAsCurrentPassword(link, newPassword, ctx, now)) return fail("same_password", link.userId);
  // The link stays live: the user chooses another password with it.
  const screening = await screenNewPassword(newPassword, link);
  if (!screening.ok) {
    await audited(screening.reason, link.userId);
    return { ok: false, reason: "unacceptable_password", message: screening.message };
  }
  const passwordHash = await hashPassword(newPassword);
  const tokenHash = sha256(token);
  const spent = await db().$transaction(async (tx) => {
    // Spent in the same transaction as the password is set: two requests with one link, one wins.
    const { count } = await tx.passwordResetToken.updateMany({ where: { tokenHash, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    if (count !== 1) return null;
    // The link came by mail to this address: its owner has proven they read it (email-verification.ts).
    const emailVerified = await proveEmail(tx, link.userId, link.email, now);
    return { ended: await storeNewPassword(tx, link.userId, passwordHash, now), emailVerified };
  });
  if (spent === null) return fail("invalid_link");
  const { ended: endedSessions, emailVerified } = spent;

  const userCtx: AuditContext = { actor: { type: "user", id: link.userId, label: link.email }, client: ctx.client };
  await audit(userCtx, { type: "authentication", action: "password.recovery.complete", outcome: "success", resource: { type: "user", id: link.userId }, ...(emailVerified && { metadata: { emailVerified } }) });
  await auditSessionsEnded(userCtx, link.userId, "password_changed", endedSessions, null);
  await takeBackAccess(link.userId, "password_changed", userCtx, { forgetDevices: true });
  // The failed passwords that may have led here no longer lock the account (a deliberate lock stays).
  await clearPasswordFailures(link.email);
  const delivery = sendMailLogged("a password change notice", {
    to: link.email,
    subject: "Your Gatehouse password was changed",
    text: `Hello ${link.name},\n\nThe password of your Gatehouse account was just reset with a link sent to this address. Every session was signed out, apps must be allowed again, and remembered devices are forgotten.\nIf this was not you, contact your administrator at once.\n`,
  });
  return { ok: true, email: link.email, delivery };
}
