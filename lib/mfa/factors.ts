import "server-only";
import { readConfig } from "../config";
import { db, type Prisma } from "../db/client";
import { audit, type AuditContext } from "../audit";
import { listPasskeys, type PasskeyView } from "./passkeys";
import { remainingBackupCodes } from "./backup-codes";
import { clearFactorFailures } from "./lockout";

// What a user has as second factors, and the rules for taking them away. TOTP and passkeys are
// factors; backup codes only recover an account that has one.

export type FactorSummary = {
  totp: { activatedAt: Date; lastUsedAt: Date | null } | null;
  passkeys: PasskeyView[];
  backupCodesRemaining: number;
  mfaRequired: boolean;
};

/** A user's second factors in words ("Authenticator app", "2 passkeys"); empty when none. */
export function factorNames(factors: Pick<SecondFactors, "totp" | "passkeys">): string[] {
  const passkeys = factors.passkeys === 1 ? "Passkey" : factors.passkeys > 1 ? `${factors.passkeys} passkeys` : null;
  return [factors.totp ? "Authenticator app" : null, passkeys].filter((name) => name !== null);
}

/** Users with a second factor (an activated authenticator app or a passkey), as a query filter for user lists. */
export const HAS_SECOND_FACTOR = { OR: [{ totp: { is: { activatedAt: { not: null } } } }, { passkeys: { some: {} } }] } satisfies Prisma.UserWhereInput;

/** The roles whose members must have a second factor (GATEHOUSE_MFA_REQUIRED_ROLES). */
export function mfaRequiredRoles() {
  return [...readConfig().GATEHOUSE_MFA_REQUIRED_ROLES];
}

export function mfaRequiredFor(roles: readonly string[]): boolean {
  const required: readonly string[] = mfaRequiredRoles();
  return roles.some((role) => required.includes(role));
}

export async function factorSummary(user: { id: string; roles: readonly string[] }): Promise<FactorSummary> {
  const [totp, passkeys, backupCodesRemaining] = await Promise.all([
    db().totpFactor.findUnique({ where: { userId: user.id } }),
    listPasskeys(user.id),
    remainingBackupCodes(user.id),
  ]);
  return {
    totp: totp?.activatedAt ? { activatedAt: totp.activatedAt, lastUsedAt: totp.lastUsedAt } : null,
    passkeys,
    backupCodesRemaining,
    mfaRequired: mfaRequiredFor(user.roles),
  };
}

export type SecondFactors = { totp: boolean; passkeys: number; backupCodes: number };

export async function secondFactors(userId: string): Promise<SecondFactors> {
  const [totp, passkeys, backupCodes] = await Promise.all([
    db().totpFactor.count({ where: { userId, activatedAt: { not: null } } }),
    db().passkey.count({ where: { userId } }),
    remainingBackupCodes(userId),
  ]);
  return { totp: totp > 0, passkeys, backupCodes };
}

export const hasSecondFactor = (f: Pick<SecondFactors, "totp" | "passkeys">) => f.totp || f.passkeys > 0;
/** Whether the account can confirm with a second factor (`passkeyOnly`: with a passkey), as a step-up asks. */
export async function canConfirmWith(userId: string, passkeyOnly: boolean): Promise<boolean> {
  const factors = await secondFactors(userId);
  return passkeyOnly ? factors.passkeys > 0 : hasSecondFactor(factors);
}

/** Activated TOTP and passkey count of many users at once (two queries, not one per user): compliance checks every admin and analyst. */
export async function secondFactorsOf(userIds: readonly string[]): Promise<Map<string, Pick<SecondFactors, "totp" | "passkeys">>> {
  if (userIds.length === 0) return new Map();
  const [totp, passkeys] = await Promise.all([
    db().totpFactor.findMany({ where: { userId: { in: [...userIds] }, activatedAt: { not: null } }, select: { userId: true } }),
    db().passkey.groupBy({ by: ["userId"], where: { userId: { in: [...userIds] } }, _count: { _all: true } }),
  ]);
  const withTotp = new Set(totp.map((t) => t.userId));
  const passkeyCount = new Map(passkeys.map((p) => [p.userId, p._count._all]));
  return new Map(userIds.map((id) => [id, { totp: withTotp.has(id), passkeys: passkeyCount.get(id) ?? 0 }]));
}

/** Those of these users with neither TOTP nor a passkey (two queries however many there are). */
export async function withoutSecondFactor<U extends { userId: string }>(users: readonly U[]): Promise<U[]> {
  const factors = await secondFactorsOf(users.map((u) => u.userId));
  return users.filter((u) => !hasSecondFactor(factors.get(u.userId)!));
}

export type RemovalResult = { ok: true } | { ok: false; message: string };

const LAST_FACTOR = "This is your last second factor and your role requires one. Add another factor first.";

/** Removes TOTP, or one passkey, unless it is the last factor of an account that requires MFA (by its roles as they are now). */
export async function removeFactor(
  user: { id: string },
  factor: { kind: "totp" } | { kind: "passkey"; passkeyId: string },
  ctx: AuditContext,
): Promise<RemovalResult> {
  return db().$transaction(async (tx) => {
    // Lock the user row so two removals at once cannot both pass the last-factor check; its roles
    // are read under the lock, not as the request found them: a role needing MFA granted meanwhile
    // (whose grant looked for a factor and found this one) counts.
    const [account] = await tx.$queryRaw<{ roles: string[] }[]>`SELECT roles::text[] AS roles FROM users WHERE id = ${user.id}::uuid FOR UPDATE`;
    const [totp, passkeys] = await Promise.all([
      tx.totpFactor.count({ where: { userId: user.id, activatedAt: { not: null } } }),
      tx.passkey.count({ where: { userId: user.id } }),
    ]);
    const removed =
      factor.kind === "totp"
        ? (await tx.totpFactor.deleteMany({ where: { userId: user.id } })).count > 0 && totp > 0
        : (await tx.passkey.deleteMany({ where: { id: factor.passkeyId, userId: user.id } })).count > 0;
    if (!removed) return { ok: false, message: "That factor is not set up." } as const;
    const left = factor.kind === "totp" ? passkeys : totp + passkeys - 1;
    if (left === 0 && mfaRequiredFor(account?.roles ?? [])) throw new LastFactorError();
    // Backup codes recover a second factor; with none left they would be a password substitute.
    if (left === 0) await tx.backupCode.deleteMany({ where: { userId: user.id } });
    // A factor is removed because it may be in someone else's hands: devices remembered after
    // passing it must not go on skipping the second step (as after an admin's reset or a recovery).
    const untrusted = await tx.device.updateMany({ where: { userId: user.id, trustedUntil: { not: null } }, data: { trustedUntil: null } });
    return { ok: true, untrustedDevices: untrusted.count } as const;
  }).then(
    async (result) => {
      if (result.ok) {
        await audit(ctx, {
          type: "mfa", action: factor.kind === "totp" ? "mfa.totp.remove" : "mfa.passkey.remove", outcome: "success",
          resource: factor.kind === "totp" ? { type: "user", id: user.id } : { type: "passkey", id: factor.passkeyId },
          metadata: { userId: user.id, untrustedDevices: result.untrustedDevices },
        });
        return { ok: true } as const;
      }
      return result;
    },
    async (error: unknown) => {
      if (!(error instanceof LastFactorError)) throw error;
      await audit(ctx, { type: "mfa", action: `mfa.${factor.kind}.remove`, outcome: "blocked", resource: { type: "user", id: user.id }, metadata: { reason: "last_required_factor" } });
      return { ok: false, message: LAST_FACTOR };
    },
  );
}

class LastFactorError extends Error {}

type InTransaction = <T>(change: (tx: Prisma.TransactionClient) => Promise<T>) => Promise<T>;

/**
 * Admin: removes every factor, backup code and device trust of a user, with the reason audited.
 * The wrong-code lock goes too: it guarded factors that are gone, and would refuse the new one.
 * `inTransaction`: where the removal runs (the caller's checks under its lock, say).
 */
export async function resetMfa(userId: string, reason: string, ctx: AuditContext, inTransaction: InTransaction = (change) => db().$transaction(change)): Promise<void> {
  const [totp, passkeys, codes, devices] = await inTransaction((tx) => Promise.all([
    tx.totpFactor.deleteMany({ where: { userId } }),
    tx.passkey.deleteMany({ where: { userId } }),
    tx.backupCode.deleteMany({ where: { userId } }),
    tx.device.updateMany({ where: { userId, trustedUntil: { not: null } }, data: { trustedUntil: null } }),
  ]));
  await clearFactorFailures(userId);
  await audit(ctx, {
    type: "admin", action: "mfa.reset", outcome: "success", resource: { type: "user", id: userId },
    metadata: { reason, removed: { totp: totp.count, passkeys: passkeys.count, backupCodes: codes.count, trustedDevices: devices.count } },
  });
}
