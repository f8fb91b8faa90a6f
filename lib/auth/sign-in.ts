import "server-only";
import { z } from "zod";
import { db } from "../db/client";
import type { RequestContext } from "../http/request-context";
import { MAX_PASSWORD_LENGTH, burnPasswordCheck, verifyPassword } from "./password";
import { checkSignInThrottle, recordSignInFailure, recordSignInSuccess } from "./throttle";
import { createSession } from "./sessions";
import { audit } from "./audit-context";

// The portal's password sign-in pipeline: throttle → password → session. Later stages
// (risk, policy, MFA) slot in between the password check and the session.

export const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().max(254).pipe(z.email()),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

export type PasswordSignInResult =
  | { ok: true; userId: string; sessionId: string }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

type AttemptOutcome = "success" | "invalid_credentials" | "rate_limited" | "disabled";

export async function signInWithPassword(input: unknown, client: RequestContext): Promise<PasswordSignInResult> {
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
  const session = await createSession(user.id, client);
  await db().user.update({ where: { id: user.id }, data: { lastSignInAt: session.createdAt } });
  await recordAttempt(email, user.id, client, "success");
  await audit(attempt(user.id), { type: "authentication", action: "auth.sign_in", outcome: "success", resource: { type: "session", id: session.id }, metadata: { method: "password" } });
  return { ok: true, userId: user.id, sessionId: session.id };
}

async function recordAttempt(email: string, userId: string | null, client: RequestContext, outcome: AttemptOutcome) {
  await db().loginAttempt.create({
    data: { email, userId, ipAddress: client.ip, userAgent: client.userAgent, outcome },
  });
}
