import "server-only";
import { parseJsonOrNull } from "../util/json";
import { z } from "zod";
import { db } from "../db/client";
import type { RequestContext } from "../http/request-context";
import { MAX_PASSWORD_LENGTH, burnPasswordCheck, verifyPassword } from "./password";
import { checkSignInThrottle, recordSignInFailure, recordSignInSuccess } from "./throttle";
import { createSession } from "./sessions";
import { audit, type AuditContext } from "../audit/context";
import { recognizeDevice } from "../devices";
import { hasSecondFactor, mfaRequiredFor, secondFactors, signInRequirement, verifyPasskeyAssertion } from "../mfa";

// The portal's sign-in pipelines. Password: throttle → password → device → requirement →
// session. The requirement (lib/mfa/requirement.ts) decides whether the session starts active or
// waits for the MFA step or enrollment; risk and policy will raise it through its `minimum`.
// Passkey: the assertion (user-verified, so already two factors) → device → active session.

export const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().max(254).pipe(z.email()),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

export type SignInResult =
  | { ok: true; userId: string; sessionId: string; newDeviceToken: string | null }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

type AttemptOutcome = "success" | "invalid_credentials" | "rate_limited" | "disabled";

export async function signInWithPassword(input: unknown, client: RequestContext, deviceToken: string | null): Promise<SignInResult> {
  const parsed = credentialsSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: "invalid_credentials" };
  const { email, password } = parsed.data;

  const attempt = (userId: string | null) => ({ actor: { type: "user" as const, id: userId, label: email }, client });

  const verdict = await checkSignInThrottle(email, client.ip);
  if (!verdict.allowed) {
    await recordAttempt(email, null, client, "rate_limited");
    await audit(attempt(null), { type: "authentication", action: "auth.sign_in", outcome: "blocked", metadata: { method: "password", throttled: verdict.scope, retryAfterSeconds: verdict.retryAfterSeconds } });
    return { ok: false, reason: "throttled", retryAfterSeconds: verdict.retryAfterSeconds };
  }

  const user = await db().user.findUnique({ where: { email }, include: { password: true } });
  const passwordOk = user?.password
    ? await verifyPassword(user.password.hash, password)
    : (await burnPasswordCheck(password), false);

  if (!user || !passwordOk || user.disabledAt) {
    const outcome = user && passwordOk ? "disabled" : "invalid_credentials";
    await recordAttempt(email, user?.id ?? null, client, outcome);
    const { locked } = await recordSignInFailure(email, client.ip);
    await audit(attempt(user?.id ?? null), { type: "authentication", action: "auth.sign_in", outcome: "failure", metadata: { method: "password", reason: outcome } });
    if (locked && user) {
      await audit(attempt(user.id), { type: "security", action: "account.lockout", outcome: "blocked", resource: { type: "user", id: user.id }, metadata: { reason: "repeated_sign_in_failures" } });
    }
    return { ok: false, reason: "invalid_credentials" };
  }

  await recordSignInSuccess(email);
  const device = await recognizeDevice(user.id, deviceToken, client);
  const factors = await secondFactors(user.id);
  const requirement = signInRequirement({
    hasSecondFactor: hasSecondFactor(factors),
    hasPasskey: factors.passkeys > 0,
    mfaRequired: mfaRequiredFor(user.roles),
    trustedDevice: device.trusted,
  });
  const session = await createSession(user.id, client, {
    stage: requirement.stage,
    requiredFactor: requirement.stage === "mfa_required" ? requirement.requiredFactor : null,
    authMethods: requirement.reason === "trusted_device" ? ["password", "trusted_device"] : ["password"],
    deviceId: device.id,
  });
  await db().user.update({ where: { id: user.id }, data: { lastSignInAt: session.createdAt } });
  await recordAttempt(email, user.id, client, "success");
  await audit(attempt(user.id), {
    type: "authentication", action: "auth.sign_in", outcome: "success", resource: { type: "session", id: session.id },
    metadata: { method: "password", stage: requirement.stage, reason: requirement.reason, deviceId: device.id, newDevice: !!device.newToken },
  });
  return { ok: true, userId: user.id, sessionId: session.id, newDeviceToken: device.newToken };
}

export const passkeySignInSchema = z.object({ challengeId: z.string().max(64), response: z.string().max(20_000) });

/** Passwordless: a discoverable passkey's assertion alone signs in (user verification is required). */
export async function signInWithPasskey(input: unknown, client: RequestContext, deviceToken: string | null): Promise<SignInResult> {
  const anonymous: AuditContext = { actor: { type: "user", id: null, label: null }, client };
  const parsed = passkeySignInSchema.safeParse(input);
  const response = parsed.success ? parseJsonOrNull(parsed.data.response) : null;
  const assertion = parsed.success && response
    ? await verifyPasskeyAssertion({ challengeId: parsed.data.challengeId, response }, anonymous)
    : ({ ok: false, reason: "invalid", userId: null } as const);
  const user = assertion.userId ? await db().user.findUnique({ where: { id: assertion.userId } }) : null;
  const ctx: AuditContext = { actor: { type: "user", id: user?.id ?? null, label: user?.email ?? null }, client };
  if (!assertion.ok || !user || user.disabledAt) {
    const reason = assertion.ok ? "disabled" : assertion.reason;
    await audit(ctx, { type: "authentication", action: "auth.sign_in", outcome: "failure", metadata: { method: "passkey", reason } });
    return { ok: false, reason: "invalid_credentials" };
  }
  const device = await recognizeDevice(user.id, deviceToken, client);
  const session = await createSession(user.id, client, { stage: "active", authMethods: ["passkey"], deviceId: device.id, mfaVerified: true });
  await db().user.update({ where: { id: user.id }, data: { lastSignInAt: session.createdAt } });
  await recordAttempt(user.email, user.id, client, "success");
  await audit(ctx, {
    type: "authentication", action: "auth.sign_in", outcome: "success", resource: { type: "session", id: session.id },
    metadata: { method: "passkey", passkeyId: assertion.passkeyId, deviceId: device.id, newDevice: !!device.newToken },
  });
  return { ok: true, userId: user.id, sessionId: session.id, newDeviceToken: device.newToken };
}


async function recordAttempt(email: string, userId: string | null, client: RequestContext, outcome: AttemptOutcome) {
  await db().loginAttempt.create({
    data: { email, userId, ipAddress: client.ip, userAgent: client.userAgent, outcome },
  });
}
