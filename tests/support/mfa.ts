import { generate } from "otplib";
import { db } from "@/lib/db/client";
import { confirmTotpEnrollment, passkeyAuthenticationOptions, passkeyRegistrationOptions, registerPasskey, startTotpEnrollment } from "@/lib/mfa";
import type { RoleName } from "@/lib/auth/roles";
import { SoftAuthenticator } from "./soft-authenticator";
import { ctx, makeUser } from "./factories";

export const codeAt = (secret: string, date: Date) => generate({ secret, epoch: Math.floor(date.getTime() / 1000) });

/** A user with TOTP enrolled. */
export async function withTotp(roles: RoleName[] = []) {
  const user = await makeUser({ roles });
  return { user, secret: await enrollTotp(user) };
}

/** Enrolls TOTP. The enrollment code is from 30 s ago, so the current code stays unused. */
export async function enrollTotp(user: { id: string; email: string }): Promise<string> {
  const enrollment = await startTotpEnrollment(user);
  if ("error" in enrollment) throw new Error(enrollment.error);
  const confirmed = await confirmTotpEnrollment(user.id, await codeAt(enrollment.secret, new Date(Date.now() - 30_000)), ctx);
  if (!confirmed.ok) throw new Error("TOTP enrollment failed");
  return enrollment.secret;
}

export async function withPasskey(userId: string, authenticator = new SoftAuthenticator()) {
  const user = await db().user.findUniqueOrThrow({ where: { id: userId } });
  const { challengeId, options } = await passkeyRegistrationOptions(user);
  const result = await registerPasskey(user.id, { challengeId, response: authenticator.register(options), name: "Laptop" }, ctx);
  if (!result.ok) throw new Error(result.message);
  return { authenticator, passkey: result.passkey };
}

export async function assertion(authenticator: SoftAuthenticator, userId: string | null, signCount?: number) {
  const { challengeId, options } = await passkeyAuthenticationOptions(userId);
  return { challengeId, response: JSON.stringify(authenticator.authenticate(options, signCount)) };
}
