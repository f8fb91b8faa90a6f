import "server-only";
import { generateKeyPairSync } from "node:crypto";
import { calculateJwkThumbprint, type JWK } from "jose";
import { db, Prisma } from "../db/client";
import { announceChange } from "../db/changes";
import { decrypt, encrypt } from "../crypto";
import type { SealedField } from "../crypto/reseal";
import { audit, SYSTEM_CONTEXT, type AuditContext } from "../audit";
import { everyHour } from "../util/hourly";
import { PROVIDER_SESSION_TTL } from "./token-lifetimes";

// The provider's signing keys, in PostgreSQL with the private half encrypted. One active key per
// algorithm signs; rotating makes a new active key and moves the old one to "retiring", where it
// stays in JWKS (so tokens it signed still verify) until the longest-lived of them has expired.
// A retired key keeps only its public half: its private half is erased, from backups taken since too.

export const SIGNING_ALGS = ["ES256", "EdDSA"] as const;
type SigningAlg = (typeof SIGNING_ALGS)[number];
const CIPHER_CONTEXT = "oidc.signing_key";
/** Where the signing keys' private halves are sealed (npm run keys:reseal). */
export const SIGNING_KEY_SECRETS: SealedField = { table: "oidc_signing_keys", column: "private_jwk_cipher", id: "kid", context: CIPHER_CONTEXT };
// JWT access tokens live at most 24 hours (lib/oidc/clients.ts), but an ID token is presented back
// as id_token_hint (RP-initiated logout, prompt=none) for as long as the provider session it came
// from lasts, and the provider checks its signature then: a key retired sooner breaks those.
export const RETIRE_AFTER_MS = PROVIDER_SESSION_TTL * 1000 + 5 * 60_000;

async function newKey(alg: SigningAlg) {
  const { privateKey } = alg === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
  const privateJwk = privateKey.export({ format: "jwk" }) as JWK;
  const { d: _secret, ...publicJwk } = privateJwk;
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, alg, publicJwk: { ...publicJwk, kid, alg, use: "sig" }, privateJwkCipher: encrypt(JSON.stringify({ ...privateJwk, kid, alg, use: "sig" }), CIPHER_CONTEXT) };
}

/**
 * Makes a new active key for `alg`; the one in force, if any, retires after `retireAfter`. With
 * `unlessActive`, only when no active key of `alg` matches it, judged before a key is generated
 * (no key pair is made for nothing) and again under the algorithm's lock: instances starting on a
 * fresh database, or rotating at once, make one key (key ids are thumbprints: nothing else would
 * collide). Returns the new key's id, or null.
 */
async function newActiveKey(alg: SigningAlg, retireAfter: Date, unlessActive?: Prisma.OidcSigningKeyWhereInput): Promise<string | null> {
  const kept = async (client: Prisma.TransactionClient) => unlessActive !== undefined && (await client.oidcSigningKey.count({ where: { alg, state: "active", ...unlessActive } })) > 0;
  if (await kept(db())) return null;
  const key = await newKey(alg);
  return db().$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`gatehouse.oidc_signing_keys.${alg}`}))`;
    if (await kept(tx)) return null;
    await tx.oidcSigningKey.updateMany({ where: { alg, state: "active" }, data: { state: "retiring", retireAfter } });
    await tx.oidcSigningKey.create({ data: { ...key, publicJwk: key.publicJwk as Prisma.InputJsonObject, state: "active" } });
    return key.kid;
  });
}

/** Creates the first keys on a fresh database (idempotent, also across instances starting at once). */
export async function ensureSigningKeys(): Promise<void> {
  for (const alg of SIGNING_ALGS) await newActiveKey(alg, new Date(), {});
}

const RETIRED = (now: Date) => ({ state: "retired", retiredAt: now, privateJwkCipher: null });

/** Retires keys whose grace period is over (their private halves erased), each audited once whichever instance does it. */
export async function retireDueKeys(now = new Date()): Promise<number> {
  const retired = await db().oidcSigningKey.updateManyAndReturn({ where: { state: "retiring", retireAfter: { lte: now } }, data: RETIRED(now), select: { kid: true, retireAfter: true } });
  for (const key of retired) {
    await audit(SYSTEM_CONTEXT, { type: "admin", action: "oauth.keys.retire", outcome: "success", resource: { type: "signing_key", id: key.kid }, metadata: { early: false, due: key.retireAfter?.toISOString() ?? null } });
  }
  return retired.length;
}

// The keys in force: active ones, and retiring ones not yet due. Judged by the due time rather than
// the stored state, so a key leaves JWKS when it is due even before anything marks it retired.
const inForce = (now: Date) => ({ OR: [{ state: "active" }, { state: "retiring", retireAfter: { gt: now } }] });

/** The provider's JWKS (private, decrypted in memory): active keys first, so they are the ones used to sign. */
export async function providerJwks(now = new Date()): Promise<{ keys: JWK[]; version: string }> {
  await retireDueKeys(now);
  const rows = await db().oidcSigningKey.findMany({ where: { ...inForce(now), privateJwkCipher: { not: null } }, orderBy: [{ state: "asc" }, { createdAt: "desc" }] });
  return { keys: rows.map((r) => JSON.parse(decrypt(r.privateJwkCipher!, CIPHER_CONTEXT)) as JWK), version: versionOf(rows) };
}

/** The keys that verify tokens now, public parts only: nothing decrypted. */
export async function publicJwks(now = new Date()): Promise<JWK[]> {
  const rows = await db().oidcSigningKey.findMany({ where: inForce(now), select: { publicJwk: true } });
  return rows.map((r) => r.publicJwk as JWK);
}

const versionOf = (rows: { kid: string; state: string }[]) => rows.map((r) => `${r.kid}:${r.state}`).sort().join(",");

/**
 * Changes whenever the keys in force change: a key is added, changes state, or comes to the end of
 * its grace period. Instances compare it to rebuild their provider (whose JWKS is then without it).
 */
export async function keysVersion(now = new Date()): Promise<string> {
  return versionOf(await db().oidcSigningKey.findMany({ where: inForce(now), select: { kid: true, state: true } }));
}

/**
 * New active keys; the ones they replace retire after RETIRE_AFTER_MS. `olderThan`: only an
 * algorithm whose active key was made before then (the schedule below), judged under the
 * algorithm's lock, so instances running the schedule at once rotate once. Returns the new kids.
 */
export async function rotateSigningKeys(ctx: AuditContext, now = new Date(), { olderThan }: { olderThan?: Date } = {}): Promise<string[]> {
  const created: string[] = [];
  for (const alg of SIGNING_ALGS) {
    const kid = await newActiveKey(alg, new Date(now.getTime() + RETIRE_AFTER_MS), olderThan && { createdAt: { gte: olderThan } });
    if (kid) created.push(kid);
  }
  if (!created.length) return created;
  await announceChange("signing_keys");
  await audit(ctx, { type: "admin", action: "oauth.keys.rotate", outcome: "success", resource: { type: "signing_keys", id: created.join(",") }, metadata: { newKids: created, scheduled: !!olderThan } });
  return created;
}

/** Rotates the keys that are `days` old (GATEHOUSE_SIGNING_KEY_ROTATION_DAYS), hourly in this process; 0 never does. */
export function scheduleSigningKeyRotation(days: number): void {
  if (days > 0) everyHour("signing key rotation", 20 * 60_000, () => rotateSigningKeys(SYSTEM_CONTEXT, new Date(), { olderThan: new Date(Date.now() - days * 86_400_000) }));
}

/**
 * A retiring key leaves JWKS now rather than when its grace period ends (one that leaked): every
 * token it signed stops verifying. An active key is rotated first. False if no such retiring key.
 */
export async function retireSigningKeyNow(kid: string, ctx: AuditContext, now = new Date()): Promise<boolean> {
  const { count } = await db().oidcSigningKey.updateMany({ where: { kid, state: "retiring" }, data: RETIRED(now) });
  if (count) {
    await announceChange("signing_keys", kid);
    await audit(ctx, { type: "admin", action: "oauth.keys.retire", outcome: "success", resource: { type: "signing_key", id: kid }, metadata: { early: true } });
  }
  return count === 1;
}

export type SigningKeyView = { kid: string; alg: string; state: string; createdAt: Date; retireAfter: Date | null; retiredAt: Date | null };

/**
 * The keys as the console lists them. A retiring key past its due time shows as retired (since
 * then), as the provider already treats it, without a page view writing to the database.
 */
export async function listSigningKeys(now = new Date()): Promise<SigningKeyView[]> {
  const rows = await db().oidcSigningKey.findMany({
    orderBy: [{ createdAt: "desc" }],
    take: 50,
    select: { kid: true, alg: true, state: true, createdAt: true, retireAfter: true, retiredAt: true },
  });
  return rows.map((key) => (key.state === "retiring" && key.retireAfter && key.retireAfter <= now ? { ...key, state: "retired", retiredAt: key.retireAfter } : key));
}

/** Every active signing key with its age (no cap): compliance checks each was rotated within 90 days. */
export function listActiveSigningKeys(): Promise<{ kid: string; alg: string; createdAt: Date }[]> {
  return db().oidcSigningKey.findMany({ where: { state: "active" }, select: { kid: true, alg: true, createdAt: true } });
}

/** Self-attestation that private keys are sealed: of all stored keys, how many look plaintext (a JSON JWK, which a sealed one never is). */
export async function checkSigningKeysSealed(): Promise<{ checked: number; plaintext: number }> {
  // A retired key keeps no private half: nothing of it to check.
  const rows = await db().oidcSigningKey.findMany({ where: { privateJwkCipher: { not: null } }, select: { privateJwkCipher: true } });
  return { checked: rows.length, plaintext: rows.filter((k) => k.privateJwkCipher!.trimStart().startsWith("{")).length };
}
