import "server-only";
import { randomInt } from "node:crypto";
import { blindIndex } from "../crypto";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit";
import { HAS_SECOND_FACTOR } from "./factors";

// Ten single-use recovery codes, shown once. Stored as HMACs under the index key (see schema).
export const BACKUP_CODE_COUNT = 10;
export const BACKUP_CODES_LOW = 2;
// No 0/o, 1/l/i: codes are read off paper.
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";
const HASH_CONTEXT = "mfa.backup_code";

/** "Abcde-12345", " abcde 12345 " and "abcde12345" are the same code. */
export function normalizeBackupCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]/g, "");
}

/** Could `input` be a backup code at all (before any lookup)? */
export const isBackupCodeShaped = (input: string) => /^[a-z0-9]{10}$/.test(normalizeBackupCode(input));

function newCode(): string {
  const chars = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

// Keyed to the user too: with the index key and a copy of the table, one guess is then checked
// against one account's codes, not every account's at once.
const hashCode = (userId: string, code: string) => blindIndex(`${userId}\u0000${normalizeBackupCode(code)}`, HASH_CONTEXT);
// How codes made before 2026-12-05 were stored; they work until used or replaced.
const legacyHash = (code: string) => blindIndex(normalizeBackupCode(code), HASH_CONTEXT);

/** Backup codes recover a second factor: an account without one gets none (they would be a password substitute). */
export class NoSecondFactorError extends Error {
  constructor() {
    super("Set up an authenticator app or a passkey first.");
  }
}

/**
 * Replaces the user's codes with a fresh set and returns them (the only time they are shown);
 * NoSecondFactorError if the account has no second factor (a factor's removal drops the codes,
 * under the same lock).
 */
export async function generateBackupCodes(userId: string, ctx: AuditContext): Promise<string[]> {
  const codes = Array.from({ length: BACKUP_CODE_COUNT }, newCode);
  await db().$transaction(async (tx) => {
    // The user's row lock serialises two regenerations at once (only the later set ever works),
    // and a regeneration with a factor's removal (removeFactor takes it too).
    await tx.$queryRaw`SELECT id FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
    if ((await tx.user.count({ where: { id: userId, ...HAS_SECOND_FACTOR } })) === 0) throw new NoSecondFactorError();
    await tx.backupCode.deleteMany({ where: { userId } });
    await tx.backupCode.createMany({ data: codes.map((code) => ({ userId, codeHash: hashCode(userId, code) })) });
  });
  await audit(ctx, { type: "mfa", action: "mfa.backup_codes.generate", outcome: "success", resource: { type: "user", id: userId }, metadata: { count: codes.length } });
  return codes;
}

/** Uses up a code if it is one of the user's unused ones; a used code never works again. */
export async function consumeBackupCode(userId: string, code: string): Promise<boolean> {
  const normalized = normalizeBackupCode(code);
  if (!isBackupCodeShaped(normalized)) return false;
  // Looked up by keyed hash: no comparison of secrets happens in JavaScript at all.
  const { count } = await db().backupCode.updateMany({
    where: { userId, codeHash: { in: [hashCode(userId, normalized), legacyHash(normalized)] }, usedAt: null },
    data: { usedAt: new Date() },
  });
  return count === 1;
}

export function remainingBackupCodes(userId: string): Promise<number> {
  return db().backupCode.count({ where: { userId, usedAt: null } });
}
