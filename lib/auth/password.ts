import "server-only";
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { z } from "zod";

// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
// Algorithm.Argon2id is an ambient const enum, which isolated modules cannot read: its value is 2.
const ARGON2_OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;
// Long enough for passphrases, short enough that hashing cannot be abused to burn CPU.
export const MAX_PASSWORD_LENGTH = 128;

export const newPasswordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`)
  .max(MAX_PASSWORD_LENGTH, `Use at most ${MAX_PASSWORD_LENGTH} characters.`);

/** A new password typed twice, so a typo cannot leave the user with a password they do not know. */
export const newPasswordPairSchema = z
  .object({ newPassword: newPasswordSchema, confirmPassword: z.string().max(1000) })
  .refine((f) => f.newPassword === f.confirmPassword, { path: ["confirmPassword"], message: "The two new passwords differ." });

/**
 * Whether a required new password (User.passwordResetRequiredAt) distrusts the current one: it was
 * required after the password was set (an incident's response: others may know it), not together
 * with it (an admin's temporary password, which came by a channel the admin chose).
 */
export function passwordDistrusted(resetRequiredAt: Date | null, changedAt: Date | null | undefined): boolean {
  return !!resetRequiredAt && (!changedAt || resetRequiredAt > changedAt);
}

/** How an account's password stands: none (passkey only), set, an admin's temporary one, or distrusted. */
export type PasswordState = "none" | "set" | "temporary" | "distrusted";

export function passwordState(resetRequiredAt: Date | null, changedAt: Date | null | undefined): PasswordState {
  if (!changedAt) return "none";
  if (passwordDistrusted(resetRequiredAt, changedAt)) return "distrusted";
  return resetRequiredAt ? "temporary" : "set";
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed stored hash never signs anyone in
  }
}

// Unknown accounts are checked against this hash so they take as long as known ones.
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword("gatehouse-timing-equalizer");
  await verifyPassword(await dummyHash, password);
}
