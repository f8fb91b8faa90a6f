import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { db, type Prisma } from "../db/client";
import { audit, type AuditContext } from "../audit";
import { publicUrl } from "../config";
import { mailConfigured, sendMailLogged } from "../mail";
import { bumpCounter, rateLimitAddress } from "../rate-limit/counters";

// Proof that an account's owner reads mail at its address: a one-time link, valid for 24 hours,
// mailed to it from the account page. Apps read the result as the `email_verified` claim, and many
// link accounts by email only when it is true. Only the SHA-256 of the link's token is stored,
// with the address it was sent to: a link for an address the account no longer has verifies
// nothing, and an admin changing the address unverifies the account (users.ts changeEmail). A
// password recovery completed with a mailed link proves the same (recovery.ts).

const LINK_TTL_MS = 24 * 60 * 60_000;
const SENDS_PER_HOUR = 5;
// Confirmations tried from one address (an IPv6 /64): a person needs one; each costs a lookup and an audit event.
const CONFIRMATIONS_PER_IP_PER_HOUR = 30;
const HOUR_MS = 60 * 60_000;

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

export const emailVerificationAvailable = mailConfigured;

/** Whether the account's current address is verified, and since when. */
export async function emailVerifiedAt(userId: string): Promise<Date | null> {
  return (await db().user.findUnique({ where: { id: userId }, select: { emailVerifiedAt: true } }))?.emailVerifiedAt ?? null;
}

/**
 * The account's address is proven, as of `now`: if it is still `email`, the account is enabled,
 * and it was not proven already (it keeps its first time). Whether it changed.
 */
export async function proveEmail(tx: Prisma.TransactionClient, userId: string, email: string, now: Date): Promise<boolean> {
  const { count } = await tx.user.updateMany({ where: { id: userId, email, disabledAt: null, emailVerifiedAt: null }, data: { emailVerifiedAt: now } });
  return count === 1;
}

/** Links sent before stop working: the address changed, or the account may no longer use it. */
export function forgetEmailVerificationLinks(tx: Prisma.TransactionClient, userId: string) {
  return tx.emailVerificationToken.deleteMany({ where: { userId } });
}

export type SendVerificationResult = { ok: true; email: string; delivery: Promise<void> } | { ok: false; reason: "already_verified" | "no_mail" | "too_many" | "no_account" };
type Refusal = Exclude<SendVerificationResult, { ok: true }>["reason"];

/** The account's row, locked: a link is stored and spent in the same order as an admin changes the address (users.ts changeEmail). */
const lockedAccount = async (tx: Prisma.TransactionClient, userId: string) =>
  (await tx.$queryRaw<{ email: string; name: string; email_verified_at: Date | null; disabled_at: Date | null }[]>`
    SELECT email, name, email_verified_at, disabled_at FROM users WHERE id = ${userId}::uuid FOR UPDATE`)[0] ?? null;

/** Mails a verification link to the signed-in user's address; only the latest link works. */
export async function sendEmailVerification(userId: string, ctx: AuditContext, now = new Date()): Promise<SendVerificationResult> {
  const refuse = async (reason: Refusal) => {
    await audit(ctx, { type: "authentication", action: "email.verification.send", outcome: reason === "too_many" ? "blocked" : "failure", resource: { type: "user", id: userId }, metadata: { reason } });
    return { ok: false, reason } as const;
  };
  if (!mailConfigured()) return refuse("no_mail");
  const token = randomBytes(32).toString("base64url");
  // Under the account's row lock: two sends at once leave one working link, and a link is stored
  // only for the address the account has then (not one an admin is changing it from).
  const stored = await db().$transaction(async (tx): Promise<{ email: string; name: string } | Refusal> => {
    const user = await lockedAccount(tx, userId);
    if (!user || user.disabled_at) return "no_account";
    if (user.email_verified_at) return "already_verified";
    // Counted in the transaction: a send that stores no link counts for nothing, and on one
    // connection (the embedded database) a count outside it would wait for this transaction.
    if ((await bumpCounter(`email-verification:${userId}`, HOUR_MS, now, tx)).count > SENDS_PER_HOUR) return "too_many";
    await forgetEmailVerificationLinks(tx, userId);
    await tx.emailVerificationToken.create({ data: { tokenHash: sha256(token), userId, email: user.email, createdAt: now, expiresAt: new Date(now.getTime() + LINK_TTL_MS) } });
    return user;
  });
  if (typeof stored === "string") return refuse(stored);
  const user = stored;
  await audit(ctx, { type: "authentication", action: "email.verification.send", outcome: "success", resource: { type: "user", id: userId }, metadata: { expiresInHours: LINK_TTL_MS / HOUR_MS } });
  const link = publicUrl(`/verify-email?token=${token}`).href;
  const delivery = sendMailLogged("an email verification link", {
    to: user.email,
    subject: "Confirm your email address for Gatehouse",
    text: `Hello ${user.name},\n\nOpen this link within 24 hours to confirm that ${user.email} is yours; it works once:\n\n${link}\n\nIf you did not ask for this, ignore this mail: nothing changes.\n`,
  });
  return { ok: true, email: user.email, delivery };
}

/** The address a verification link would confirm, if the link is live and still for the account's address. */
export async function emailVerificationLinkAddress(token: string, now = new Date()): Promise<string | null> {
  const row = await db().emailVerificationToken.findUnique({ where: { tokenHash: sha256(token) }, select: { email: true, usedAt: true, expiresAt: true, user: { select: { email: true, disabledAt: true } } } });
  return row && !row.usedAt && row.expiresAt > now && !row.user.disabledAt && row.user.email === row.email ? row.email : null;
}

/**
 * Spends a verification link: the account's address is verified if the link is live and for the
 * address it has now. Refused without a lookup past a number of tries from one address.
 */
export async function verifyEmailWithLink(token: string, ctx: AuditContext, now = new Date()): Promise<{ ok: true; email: string } | { ok: false; reason: "invalid_link" | "too_many" }> {
  const tries = ctx.client?.ip ? (await bumpCounter(`email-verification:confirm-ip:${rateLimitAddress(ctx.client.ip)}`, HOUR_MS, now)).count : 0;
  const complete = (outcome: "success" | "failure" | "blocked", userId: string | null, actor: AuditContext, metadata?: Record<string, string>) =>
    audit(actor, { type: "authentication", action: "email.verification.complete", outcome, resource: userId ? { type: "user", id: userId } : null, ...(metadata && { metadata }) });
  if (tries > CONFIRMATIONS_PER_IP_PER_HOUR) {
    // Only the first refusal past the cap is recorded: a flood of made-up links does not flood the trail.
    if (tries === CONFIRMATIONS_PER_IP_PER_HOUR + 1) await complete("blocked", null, ctx, { reason: "too_many_from_ip" });
    return { ok: false, reason: "too_many" };
  }
  const tokenHash = sha256(token);
  const verified = await db().$transaction(async (tx) => {
    const row = await tx.emailVerificationToken.findUnique({ where: { tokenHash }, select: { userId: true, email: true } });
    if (!row) return null;
    // The account's row first, as an admin changing the address takes it; then the link, spent
    // before anything else (two requests with one link: one wins).
    const user = await lockedAccount(tx, row.userId);
    const { count } = await tx.emailVerificationToken.updateMany({ where: { tokenHash, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    const ok = count === 1 && !!user && !user.disabled_at && user.email === row.email;
    // Verified already (by a password recovery, say) is verified: proveEmail keeps the first time.
    if (ok) await proveEmail(tx, row.userId, row.email, now);
    return { ...row, ok };
  });
  if (!verified?.ok) {
    await complete("failure", verified?.userId ?? null, ctx, { reason: "invalid_link" });
    return { ok: false, reason: "invalid_link" };
  }
  // The owner's act, whoever's browser opened the link: it proves their mailbox.
  await complete("success", verified.userId, { actor: { type: "user", id: verified.userId, label: verified.email }, client: ctx.client });
  return { ok: true, email: verified.email };
}
