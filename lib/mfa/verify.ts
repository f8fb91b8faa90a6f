import "server-only";
import { parseJsonOrNull } from "../util/json";
import { z } from "zod";
import { audit, type AuditContext } from "../audit";
import { formatWait } from "../util/format";
import { db } from "../db/client";
import { consumeBackupCode, isBackupCodeShaped } from "./backup-codes";
import { auditFactorLockout, clearFactorFailures, takeFactorTry } from "./lockout";
import { verifyPasskeyAssertion } from "./passkeys";
import { TOTP_CODE, verifyTotp } from "./totp";
import type { FactorStrength } from "./requirement";

// One place checks a second factor for the MFA step at sign-in and for step-up: the lock, the
// check itself and the audit trail are the same whichever flow asks.

export const secondFactorProofSchema = z.discriminatedUnion("method", [
  // "123 456" as some apps show it is the code 123456.
  z.object({ method: z.literal("totp"), code: z.string().max(32).transform((code) => code.replace(/\s/g, "")) }),
  z.object({ method: z.literal("backup_code"), code: z.string().trim().max(64) }),
  z.object({ method: z.literal("passkey"), challengeId: z.string().max(64), response: z.string().max(20_000) }),
]);
export type SecondFactorProof = z.infer<typeof secondFactorProofSchema>;
export type SecondFactorMethod = SecondFactorProof["method"];

export type VerifyResult = { ok: true; method: SecondFactorMethod } | { ok: false; message: string };

const WRONG_CODE = "That code is not valid. Check your authenticator app and try again.";

export async function verifySecondFactor(
  userId: string,
  proof: SecondFactorProof,
  ctx: AuditContext,
  required: Exclude<FactorStrength, "none"> = "any",
): Promise<VerifyResult> {
  const event = (outcome: "success" | "failure" | "blocked", metadata: Record<string, unknown>) =>
    audit(ctx, { type: "mfa", action: "mfa.verify", outcome, resource: { type: "user", id: userId }, metadata: { method: proof.method, ...metadata } });

  if (required === "passkey" && proof.method !== "passkey") {
    await event("blocked", { reason: "passkey_required" });
    return { ok: false, message: "This sign-in needs a passkey." };
  }

  if (proof.method === "passkey") {
    const response = parseJsonOrNull(proof.response);
    const result = await verifyPasskeyAssertion({ challengeId: proof.challengeId, response, expectedUserId: userId }, ctx);
    if (result.ok) {
      await event("success", { passkeyId: result.passkeyId });
      return { ok: true, method: "passkey" };
    }
    await event("failure", { reason: result.reason });
    return { ok: false, message: result.reason === "expired" ? "That passkey request expired. Try again." : "That passkey could not be verified." };
  }

  // A code that cannot be one (cut short, pasted with text) is a typing slip, not a guess: it
  // costs none of the tries before the factor locks.
  if (proof.method === "totp" ? !TOTP_CODE.test(proof.code) : !isBackupCodeShaped(proof.code)) {
    return { ok: false, message: proof.method === "totp" ? "Enter the 6-digit code your authenticator app shows." : "Enter a backup code: 10 letters and digits, like abcde-23456." };
  }
  const lock = await takeFactorTry(userId);
  if (lock.locked) {
    await event("blocked", { reason: "factor_locked", retryAfterSeconds: lock.retryAfterSeconds });
    const other = (await db().passkey.count({ where: { userId } })) > 0 ? "use a passkey" : "ask an administrator to lift the lock";
    return { ok: false, message: `Too many wrong codes. Try again in ${formatWait(lock.retryAfterSeconds)}, or ${other}.` };
  }
  const outcome = proof.method === "totp" ? await verifyTotp(userId, proof.code) : { ok: await consumeBackupCode(userId, proof.code), reason: "invalid" as const };
  if (outcome.ok) {
    await clearFactorFailures(userId);
    await event("success", {});
    return { ok: true, method: proof.method };
  }
  const reason = "reason" in outcome ? outcome.reason : "invalid";
  await event("failure", { reason });
  if (lock.lastTry) await auditFactorLockout(ctx, userId);
  if (proof.method === "backup_code") return { ok: false, message: "That backup code is not valid or has been used." };
  return { ok: false, message: reason === "replayed" ? "That code was already used. Wait for the next one." : WRONG_CODE };
}
