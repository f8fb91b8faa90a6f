import "server-only";
import { generateSecret, generateURI, verify } from "otplib";
import QRCode from "qrcode";
import { decrypt, encrypt } from "../crypto";
import type { SealedField } from "../crypto/reseal";
import { db, isUniqueViolation } from "../db/client";
import { audit, type AuditContext } from "../audit";
import { auditFactorLockout, clearFactorFailures, takeFactorTry } from "./lockout";

// TOTP (RFC 6238): 6 digits, 30-second steps, SHA-1 (what every authenticator app supports).
// A code is accepted for the current step and one step either side, once: the step of each
// accepted code is stored and that step and all earlier ones are refused afterwards.

export const TOTP_ISSUER = "Gatehouse";
const PERIOD_SECONDS = 30;
const CIPHER_CONTEXT = "mfa.totp";
/** Where TOTP secrets are sealed (npm run keys:reseal). */
export const TOTP_SECRETS: SealedField = { table: "totp_factors", column: "secret_cipher", id: "user_id", context: CIPHER_CONTEXT };
export const TOTP_CODE = /^\d{6}$/;

export type TotpCheck = { ok: true; timeStep: number } | { ok: false; reason: "invalid" | "replayed" | "not_enrolled" };

export type TotpEnrollment = { secret: string; uri: string; qrCode: string };

/**
 * How long a started enrollment can be confirmed. Its start is what asks for the step-up (the
 * secret is shown only then), so the confirmation does not ask again: installing an app and
 * scanning may take longer than the step-up's few minutes.
 */
const PENDING_ENROLLMENT_MS = 30 * 60_000;

/**
 * Starts (or restarts) enrollment: a new secret, not a factor until confirmed with a code, by the
 * session that started it (`sessionId`, which saw the secret: another session holding the account,
 * a stolen one, cannot confirm a setup the owner left open).
 */
export async function startTotpEnrollment(user: { id: string; email: string; sessionId?: string }): Promise<TotpEnrollment | { error: string }> {
  const secret = generateSecret();
  const secretCipher = encrypt(secret, CIPHER_CONTEXT);
  const startedBySessionId = user.sessionId ?? null;
  // A started enrollment is replaced; an activated factor never is, even by a restart racing the
  // confirmation in another tab (hence a conditional update rather than an upsert).
  const created = await db().totpFactor.create({ data: { userId: user.id, secretCipher, startedBySessionId } }).then(
    () => true,
    (error: unknown) => {
      if (isUniqueViolation(error)) return false;
      throw error;
    },
  );
  if (!created) {
    const { count } = await db().totpFactor.updateMany({ where: { userId: user.id, activatedAt: null }, data: { secretCipher, createdAt: new Date(), lastUsedStep: null, startedBySessionId } });
    if (count === 0) return { error: "An authenticator app is already set up. Remove it first to set up another." };
  }
  const uri = generateURI({ issuer: TOTP_ISSUER, label: user.email, secret, period: PERIOD_SECONDS });
  const qrCode = await QRCode.toDataURL(uri, { errorCorrectionLevel: "M", margin: 1, width: 200 });
  return { secret, uri, qrCode };
}

/** Checks a code against a secret at `now`, accepting one step of clock drift either way. */
export async function checkTotpCode(secret: string, code: string, now = new Date()): Promise<{ valid: false } | { valid: true; timeStep: number }> {
  if (!TOTP_CODE.test(code)) return { valid: false };
  // otplib compares the codes in constant time.
  const epoch = Math.floor(now.getTime() / 1000);
  const result = await verify({ secret, token: code, period: PERIOD_SECONDS, epoch, epochTolerance: PERIOD_SECONDS });
  return result.valid ? { valid: true, timeStep: Math.floor(epoch / PERIOD_SECONDS) + result.delta } : { valid: false };
}

/**
 * Verifies a code for a user's TOTP (pending or active), refusing replays; records the step used.
 * `pending`: a setup being confirmed, by `sessionId` when given (a setup started by another
 * session is not this one's to confirm).
 */
export async function verifyTotp(userId: string, code: string, options: { pending?: boolean; sessionId?: string; now?: Date } = {}): Promise<TotpCheck> {
  const now = options.now ?? new Date();
  const factor = await db().totpFactor.findUnique({ where: { userId } });
  if (!factor || (options.pending ? factor.activatedAt : !factor.activatedAt)) return { ok: false, reason: "not_enrolled" };
  if (options.pending && now.getTime() - factor.createdAt.getTime() > PENDING_ENROLLMENT_MS) return { ok: false, reason: "not_enrolled" };
  if (options.pending && options.sessionId && factor.startedBySessionId && factor.startedBySessionId !== options.sessionId) return { ok: false, reason: "not_enrolled" };
  const check = await checkTotpCode(decrypt(factor.secretCipher, CIPHER_CONTEXT), code, now);
  if (!check.valid) return { ok: false, reason: "invalid" };
  // Conditional update: of two requests racing with the same code, only one moves the step on;
  // and only for the secret the code was checked against (an enrollment restarted meanwhile in
  // another tab replaced it, and its time: not its ciphertext, which npm run keys:reseal changes
  // for the same secret). Confirming an enrollment activates the factor in the same update.
  const step = BigInt(check.timeStep);
  const { count } = await db().totpFactor.updateMany({
    where: { userId, createdAt: factor.createdAt, activatedAt: options.pending ? null : { not: null }, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }] },
    data: { lastUsedStep: step, lastUsedAt: now, ...(options.pending ? { activatedAt: now } : {}) },
  });
  return count === 1 ? { ok: true, timeStep: check.timeStep } : { ok: false, reason: "replayed" };
}

export type EnrollmentCheck = TotpCheck | { ok: false; reason: "locked"; retryAfterSeconds: number };

/**
 * Confirms a pending enrollment with a first valid code; only then is TOTP a factor. Each code
 * tried spends one of the account's tries before its codes lock (lib/mfa/lockout.ts), as at the
 * MFA step: a session that reaches this form (a stolen one, with an enrollment the owner left
 * open) cannot guess its way to an authenticator and the backup codes handed out with it. A
 * string that cannot be a code is a typing slip and spends none.
 */
export async function confirmTotpEnrollment(userId: string, code: string, ctx: AuditContext, sessionId?: string): Promise<EnrollmentCheck> {
  const event = (outcome: "success" | "failure" | "blocked", metadata?: Record<string, string | number>) =>
    audit(ctx, { type: "mfa", action: "mfa.totp.enroll", outcome, resource: { type: "user", id: userId }, ...(metadata && { metadata }) });
  if (!TOTP_CODE.test(code)) return { ok: false, reason: "invalid" };
  const lock = await takeFactorTry(userId);
  if (lock.locked) {
    await event("blocked", { reason: "factor_locked", retryAfterSeconds: lock.retryAfterSeconds });
    return { ok: false, reason: "locked", retryAfterSeconds: lock.retryAfterSeconds };
  }
  const check = await verifyTotp(userId, code, { pending: true, sessionId });
  if (check.ok) {
    await clearFactorFailures(userId);
    await event("success");
    return check;
  }
  await event("failure", { reason: check.reason });
  if (lock.lastTry) await auditFactorLockout(ctx, userId);
  return check;
}

/** Self-attestation that TOTP secrets are sealed: of all stored, how many look plaintext (base32, which a sealed one never is). */
export async function checkTotpSecretsSealed(): Promise<{ checked: number; plaintext: number }> {
  const [counts] = await db().$queryRaw<{ checked: bigint; plaintext: bigint }[]>`
    SELECT count(*) AS checked, count(*) FILTER (WHERE secret_cipher ~ '^[A-Z2-7]+=*$') AS plaintext FROM totp_factors`;
  return { checked: Number(counts!.checked), plaintext: Number(counts!.plaintext) };
}
