import "server-only";
import { parseJsonOrNull } from "../util/json";
import { z } from "zod";
import { db } from "../db/client";
import type { RequestContext } from "../http/request-context";
import { MAX_PASSWORD_LENGTH, burnPasswordCheck, passwordDistrusted, verifyPassword } from "./password";
import { auditPasswordLockout, checkAccountLock, checkPasswordTries, lockAccount, clearPasswordFailures, passwordTryKey, takePasswordTry } from "./throttle";
import { authenticatedStage, createSession, signInReachedApp } from "./sessions";
import { requestPasswordRecovery } from "./recovery";
import { audit, type AuditContext } from "../audit/context";
import { bumpCounter, rateLimitAddress } from "../rate-limit/counters";
import { recognizeDevice } from "../devices";
import { CEREMONIES_PER_ADDRESS_PER_MINUTE, hasSecondFactor, mfaRequiredFor, secondFactors, signInRequirement, verifyPasskeyAssertion } from "../mfa";
import { placeLabel } from "../geo";
import { assessSignIn, beginPasswordAttempt, currentRiskSettings, type InFlight, recordAttempt, requiredStrength, type Assessment, type AttemptRecord } from "../risk";

// The portal's sign-in pipelines (the OAuth login interaction uses the portal's session, so it
// runs through here too). Password: account lockout → risk assessment (a blocked source stops
// here, before any password hash) → password → risk decision → MFA requirement → session.
// Passkey: the assertion (user-verified, so already two factors) → risk decision → session.
// A session that would be active waits for a new password instead when one is required
// (User.passwordResetRequiredAt); one that owes the MFA step gets there after it (activateSession).
// The risk decision raises the requirement (lib/mfa/requirement.ts's `minimum`); a score at the
// block threshold refuses the sign-in, locks the account for a while and raises a security event.

export const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().max(254).pipe(z.email()),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

export type RefusalReason = "source_blocked" | "risk_blocked" | "account_locked" | "second_factor_unavailable" | "passkey_unavailable" | "password_distrusted";

export type SignInResult =
  | { ok: true; userId: string; sessionId: string; newDeviceToken: string | null }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number }
  | { ok: false; reason: "refused"; refusal: RefusalReason; retryAfterSeconds?: number };

type SignInUser = { id: string; email: string; roles: Parameters<typeof mfaRequiredFor>[0]; passwordResetRequiredAt: Date | null; password?: { changedAt: Date } | null };

export async function signInWithPassword(input: unknown, client: RequestContext, deviceToken: string | null, now = new Date()): Promise<SignInResult> {
  const parsed = credentialsSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: "invalid_credentials" };
  const { email, password } = parsed.data;

  const user = await db().user.findUnique({ where: { email }, include: { password: true } });
  const ctx: AuditContext = { actor: { type: "user", id: user?.id ?? null, label: email }, client };
  const attempt = { email, userId: user?.id ?? null, client, method: "password" as const, at: now };

  const throttled = async (retryAfterSeconds: number): Promise<SignInResult> => {
    await recordAttempt({ ...attempt, outcome: "rate_limited", assessment: null });
    await auditUncheckedRefusal(ctx, { type: "authentication", action: "auth.sign_in", outcome: "blocked", metadata: { method: "password", throttled: "account", retryAfterSeconds } }, now);
    return { ok: false, reason: "throttled", retryAfterSeconds };
  };
  const tries = await passwordTryKey(email, user?.id ?? null, deviceToken);
  const verdict = await checkPasswordTries(email, tries, now);
  if (!verdict.allowed) return throttled(verdict.retryAfterSeconds);

  /** The assessment and the password check: the account signing in, or the answer that refuses it. */
  const checkPassword = async (othersInFlight: InFlight): Promise<{ refused: SignInResult } | { user: NonNullable<typeof user>; assessment: Assessment }> => {
    const assessment = await assessSignIn({ userId: user?.id ?? null, email, ip: client.ip, deviceToken, othersInFlight }, now);
    // Decided before the password is checked, so it tells nothing about the password.
    if (assessment.sourceBlocked) return { refused: await refuseSource({ ...attempt, assessment }, ctx) };
    // Taken atomically before the check: parallel guesses cannot all pass the lockout check above.
    const passwordTry = await takePasswordTry(email, now, tries);
    if (!passwordTry.allowed) return { refused: await throttled(passwordTry.retryAfterSeconds) };
    const passwordOk = user?.password ? await verifyPassword(user.password.hash, password) : (await burnPasswordCheck(password), false);
    if (user && passwordOk && !user.disabledAt) return { user, assessment };
    const outcome = user && passwordOk ? "disabled" : "invalid_credentials";
    await recordAttempt({ ...attempt, outcome, assessment });
    await audit(ctx, { type: "authentication", action: "auth.sign_in", outcome: "failure", riskScore: assessment.score, metadata: { method: "password", reason: outcome } });
    if (passwordTry.locksIfWrong && user) await auditPasswordLockout(ctx, user.id, "repeated_sign_in_failures");
    return { refused: { ok: false, reason: "invalid_credentials" } };
  };
  // Counted from this source while its password is checked (until the outcome is recorded), so a
  // burst sent at once meets the source's limits as attempts sent one by one do.
  const inFlight = await beginPasswordAttempt(client.ip, email, now);
  const checked = await checkPassword(inFlight.othersInFlight).finally(inFlight.end);
  if ("refused" in checked) return checked.refused;

  // The right password is no failure, also when a deliberate lock then refuses it (retried through
  // the lock, it must not run up a lockout of its own); the lock is told only to whoever typed the
  // right password: a wrong one gets the same answer as for any account.
  await clearPasswordFailures(email, tries);
  const locked = await refusedWhileLocked({ ...attempt, assessment: checked.assessment }, ctx);
  if (locked) return locked;
  return completeSignIn(checked.user, "password", checked.assessment, client, deviceToken, ctx, now);
}

export const passkeySignInSchema = z.object({ challengeId: z.string().max(64), response: z.string().max(20_000) });

/** Passwordless: a discoverable passkey's assertion alone signs in (user verification is required). */
export async function signInWithPasskey(input: unknown, client: RequestContext, deviceToken: string | null, now = new Date()): Promise<SignInResult> {
  const anonymous: AuditContext = { actor: { type: "user", id: null, label: null }, client };
  // Each attempt reads a challenge and is audited: bounded per address as the options that make them are.
  const { count } = await bumpCounter(`signin:passkey:${rateLimitAddress(client.ip)}`, 60_000, now);
  if (count > CEREMONIES_PER_ADDRESS_PER_MINUTE) {
    await auditUncheckedRefusal(anonymous, { type: "authentication", action: "auth.sign_in", outcome: "blocked", metadata: { method: "passkey", throttled: "source" } }, now);
    return { ok: false, reason: "throttled", retryAfterSeconds: 60 };
  }
  const parsed = passkeySignInSchema.safeParse(input);
  const response = parsed.success ? parseJsonOrNull(parsed.data.response) : null;
  const assertion = parsed.success && response
    ? await verifyPasskeyAssertion({ challengeId: parsed.data.challengeId, response }, anonymous)
    : ({ ok: false, reason: "invalid", userId: null } as const);
  const user = assertion.userId ? await db().user.findUnique({ where: { id: assertion.userId } }) : null;
  const ctx: AuditContext = { actor: { type: "user", id: user?.id ?? null, label: user?.email ?? null }, client };
  if (!assertion.ok || !user || user.disabledAt) {
    const reason = assertion.ok ? "disabled" : assertion.reason;
    await auditUncheckedRefusal(ctx, { type: "authentication", action: "auth.sign_in", outcome: "failure", metadata: { method: "passkey", reason } }, now);
    return { ok: false, reason: "invalid_credentials" };
  }
  // A locked account (an incident's response, a blocked risky sign-in) stays locked for passkeys too.
  const locked = await refusedWhileLocked({ email: user.email, userId: user.id, client, method: "passkey", assessment: null, at: now }, ctx);
  if (locked) return locked;
  const assessment = await assessSignIn({ userId: user.id, email: user.email, ip: client.ip, deviceToken }, now);
  if (assessment.sourceBlocked) return refuseSource({ email: user.email, userId: user.id, client, method: "passkey", assessment, at: now }, ctx);
  return completeSignIn(user, "passkey", assessment, client, deviceToken, ctx, now);
}

/** A deliberate lock (an incident's response, a blocked risky sign-in) refuses every way in, once the first factor is proven. */
async function refusedWhileLocked(attempt: Omit<AttemptRecord, "outcome">, ctx: AuditContext): Promise<SignInResult | null> {
  const lock = await checkAccountLock(attempt.email, attempt.at);
  if (lock.allowed) return null;
  await recordAttempt({ ...attempt, outcome: "rate_limited" });
  await audit(ctx, { type: "authentication", action: "auth.sign_in", outcome: "blocked", metadata: { method: attempt.method, locked: true, retryAfterSeconds: lock.retryAfterSeconds } });
  return { ok: false, reason: "refused", refusal: "account_locked", retryAfterSeconds: lock.retryAfterSeconds };
}

/** After the first factor: the risk decision, the MFA requirement and the session. */
async function completeSignIn(user: SignInUser, method: "password" | "passkey", assessment: Assessment, client: RequestContext, deviceToken: string | null, ctx: AuditContext, now: Date): Promise<SignInResult> {
  // The password or passkey was right; a distrusted password proves nothing (others may know it).
  const credentialsProven = method === "passkey" || !passwordDistrusted(user.passwordResetRequiredAt, user.password?.changedAt);
  const attempt = { email: user.email, userId: user.id, client, method, assessment, at: now, credentialsProven };
  if (assessment.decision === "block") return blockSignIn(user, attempt, ctx, now);

  const requirement = method === "passkey"
    // A passkey is itself phishing-resistant and user-verified: every level short of a block is met.
    ? ({ stage: "active", reason: "passkey" } as const)
    : await passwordRequirement(user, assessment);
  if (requirement.stage === "refused") {
    await recordAttempt({ ...attempt, outcome: "refused" });
    await audit(ctx, {
      type: "security", action: "risk.sign_in_refused", outcome: "blocked", resource: { type: "user", id: user.id }, riskScore: assessment.score,
      metadata: { ...riskMetadata(assessment), reason: requirement.reason },
    });
    // The owner proves the mailbox instead: a recovery link (within recovery's own limits).
    if (requirement.reason === "password_distrusted") await requestPasswordRecovery(user.email, ctx, now);
    return { ok: false, reason: "refused", refusal: requirement.reason };
  }

  // The device list shows where a device was last seen: the proxy's header if set, else the GeoIP place.
  const device = await recognizeDevice(user.id, deviceToken, { ...client, location: client.location ?? placeLabel(assessment.geo) }, now);
  // The factors come first; a required new password is the last step before the app.
  const stage = requirement.stage === "active" ? authenticatedStage(user) : requirement.stage;
  const session = await createSession(user.id, client, {
    stage,
    requiredFactor: requirement.stage === "mfa_required" ? requirement.requiredFactor : null,
    authMethods: requirement.reason === "trusted_device" ? ["password", "trusted_device"] : [method],
    deviceId: device.id,
    mfaVerified: method === "passkey",
    riskScore: assessment.score,
  });
  await recordAttempt({ ...attempt, outcome: "success", deviceId: device.id, sessionId: session.id });
  if (stage === "active") await signInReachedApp(session.id);
  await audit(ctx, {
    type: "authentication", action: "auth.sign_in", outcome: "success", resource: { type: "session", id: session.id }, riskScore: assessment.score,
    metadata: { method, stage, reason: requirement.reason, deviceId: device.id, newDevice: !!device.newToken, ...riskMetadata(assessment) },
  });
  return { ok: true, userId: user.id, sessionId: session.id, newDeviceToken: device.newToken };
}

async function passwordRequirement(user: SignInUser, assessment: Assessment) {
  const factors = await secondFactors(user.id);
  return signInRequirement({
    passwordDistrusted: passwordDistrusted(user.passwordResetRequiredAt, user.password?.changedAt),
    hasSecondFactor: hasSecondFactor(factors),
    hasPasskey: factors.passkeys > 0,
    mfaRequired: mfaRequiredFor(user.roles),
    trustedDevice: !!assessment.knownDevice?.trusted,
    minimum: requiredStrength(assessment.decision),
  });
}

async function refuseSource(attempt: Omit<AttemptRecord, "outcome"> & { assessment: Assessment }, ctx: AuditContext): Promise<SignInResult> {
  await recordAttempt({ ...attempt, outcome: "blocked" });
  await auditUncheckedRefusal(ctx, { type: "security", action: "risk.source_blocked", outcome: "blocked", riskScore: attempt.assessment.score, metadata: riskMetadata(attempt.assessment) }, attempt.at ?? new Date());
  return { ok: false, reason: "refused", refusal: "source_blocked" };
}

/**
 * A blocked sign-in is refused. An account with a second factor is not locked as well: the
 * password alone never gets anyone in, and a lock would let whoever holds the password (or keeps
 * a source just under its own block) shut the owner out, passkeys and recovery included, hour
 * after hour. An account with only a password is locked, since a cleaner source would get in.
 */
async function blockSignIn(user: SignInUser, attempt: Omit<AttemptRecord, "outcome">, ctx: AuditContext, now: Date): Promise<SignInResult> {
  const { settings } = await currentRiskSettings();
  const lock = !hasSecondFactor(await secondFactors(user.id));
  const until = new Date(now.getTime() + settings.blockLockMinutes * 60_000);
  if (lock) await lockAccount(user, until, ctx, now);
  await recordAttempt({ ...attempt, outcome: "blocked" });
  await audit(ctx, {
    type: "security", action: "risk.sign_in_blocked", outcome: "blocked", resource: { type: "user", id: user.id }, riskScore: attempt.assessment?.score,
    metadata: { ...(attempt.assessment ? riskMetadata(attempt.assessment) : {}), lockedUntil: lock ? until.toISOString() : null },
  });
  return { ok: false, reason: "refused", refusal: "risk_blocked", ...(lock && { retryAfterSeconds: settings.blockLockMinutes * 60 }) };
}

// Refusals that check no secret (an account name already locked, a blocked source, a passkey
// assertion that does not verify) cost nothing to repeat. From one address, of each kind, the first
// ones an hour are audited one by one, then one event for every further batch of as many, saying
// how many went unrecorded: a flood cannot fill the chained trail or hold up detection, and
// detection still hears of it (credential stuffing reads those events too, and counts every
// attempt, recorded or not). A kind each, so junk passkey answers cannot use up a blocked source's
// events before its attack begins.
export const UNCHECKED_REFUSALS_AUDITED_PER_SOURCE_PER_HOUR = 50;

async function auditUncheckedRefusal(ctx: AuditContext, event: Parameters<typeof audit>[1], now: Date): Promise<void> {
  const kind = `${event.action}:${event.outcome}`;
  const { count } = await bumpCounter(`signin:refusals:${rateLimitAddress(ctx.client?.ip)}:${kind}`, 60 * 60_000, now);
  const beyond = count - UNCHECKED_REFUSALS_AUDITED_PER_SOURCE_PER_HOUR;
  if (beyond <= 0) await audit(ctx, event);
  else if (beyond % UNCHECKED_REFUSALS_AUDITED_PER_SOURCE_PER_HOUR === 1) {
    await audit(ctx, { type: "security", action: "auth.sign_in.refusals_unrecorded", outcome: "blocked", metadata: { kind, recorded: UNCHECKED_REFUSALS_AUDITED_PER_SOURCE_PER_HOUR, refusedThisHour: count, windowMinutes: 60 } });
  }
}

function riskMetadata(a: Assessment) {
  return { decision: a.decision, factors: a.factors.map((f) => `${f.code}:${f.contribution}`), settingsVersion: a.settingsVersion };
}
