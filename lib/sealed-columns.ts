import "server-only";
import { keyRing } from "./crypto";
import { resealColumn, sealedBy, type SealedField } from "./crypto/reseal";
import { audit, AUDIT_SEALED, type AuditContext } from "./audit";
import { TOTP_SECRETS } from "./mfa";
import { SIGNING_KEY_SECRETS } from "./oidc";
import { CHANNEL_SECRETS, SNAPSHOT_SECRETS } from "./incidents";

// Every column of values sealed under GATEHOUSE_ENCRYPTION_KEYS, from the domain that owns it: what
// npm run keys:reseal seals again under the current key, and reports by key. The audit trail's are
// hashed into the chain as ciphertext, so they keep their key while the events are retained.

const RESEALABLE: readonly SealedField[] = [TOTP_SECRETS, SIGNING_KEY_SECRETS, CHANNEL_SECRETS, SNAPSHOT_SECRETS];

const named = (column: SealedField) => `${column.table}.${column.column}`;

export type ResealResult = { column: string; resealed: number; unreadable: number }[];

/** Seals every secret outside the audit trail again under the current key; audited. */
export async function resealSecrets(ctx: AuditContext): Promise<ResealResult> {
  const results: ResealResult = [];
  for (const column of RESEALABLE) results.push({ column: named(column), ...(await resealColumn(column)) });
  const unreadable = results.reduce((sum, r) => sum + r.unreadable, 0);
  await audit(ctx, {
    type: "security", action: "keys.reseal", outcome: unreadable ? "failure" : "success", resource: { type: "encryption_key", id: keyRing().encryption.current.id },
    metadata: Object.fromEntries(results.map((r) => [r.column, { resealed: r.resealed, unreadable: r.unreadable }])),
  });
  return results;
}

export type KeyUsage = { keyId: string; current: boolean; configured: boolean; secrets: number; audit: number };

/** Each key id that seals a value, or is configured: how many secrets and audit values it seals. */
export async function encryptionKeyUsage(): Promise<KeyUsage[]> {
  const { current, byId } = keyRing().encryption;
  const usage = new Map<string, KeyUsage>([...byId.keys()].map((keyId) => [keyId, { keyId, current: keyId === current.id, configured: true, secrets: 0, audit: 0 }]));
  const count = async (columns: readonly SealedField[], field: "secrets" | "audit") => {
    for (const column of columns) {
      for (const [keyId, n] of await sealedBy(column)) {
        const entry = usage.get(keyId) ?? { keyId, current: false, configured: false, secrets: 0, audit: 0 };
        entry[field] += n;
        usage.set(keyId, entry);
      }
    }
  };
  await count(RESEALABLE, "secrets");
  await count(AUDIT_SEALED, "audit");
  return [...usage.values()];
}
