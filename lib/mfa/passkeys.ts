import "server-only";
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { z } from "zod";
import { hash } from "node:crypto";
import { publicUrl } from "../config";
import { db, isUniqueViolation } from "../db/client";
import { bumpCounter, rateLimitAddress } from "../rate-limit/counters";
import { audit, type AuditContext } from "../audit";
import { authenticatorName } from "./authenticators";

// Passkeys and security keys through SimpleWebAuthn. User verification is always required, so a
// passkey alone is multi-factor (something you have + PIN or biometric) and phishing-resistant.
// Challenges live in webauthn_challenges and are deleted when used: a response replays nowhere.

const CHALLENGE_TTL_MS = 5 * 60_000;
export const PASSKEY_NAME_MAX = 60;

export const passkeyNameSchema = z.string().trim().min(1, "Give the passkey a name.").max(PASSKEY_NAME_MAX);

export function relyingParty() {
  const url = publicUrl();
  return { id: url.hostname, origin: url.origin, name: "Gatehouse" };
}

type Purpose = "register" | "authenticate";

async function storeChallenge(challenge: string, purpose: Purpose, userId: string | null): Promise<string> {
  const now = new Date();
  // Expired rows go on each write: the table stays as small as the ceremonies in flight.
  await db().webAuthnChallenge.deleteMany({ where: { expiresAt: { lt: now } } });
  if (userId) await keepNewestCeremonies(userId);
  const row = await db().webAuthnChallenge.create({ data: { challenge, purpose, userId, expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS) } });
  return row.id;
}

// A signed-in (or half signed-in) browser asks for challenges without the anonymous options' per-address
// limit: its account keeps only its newest ceremonies, so no one can fill the table, and a person
// has one or two in flight at most.
export const MAX_CEREMONIES_PER_USER = 20;

async function keepNewestCeremonies(userId: string): Promise<void> {
  const kept = await db().webAuthnChallenge.findMany({ where: { userId }, orderBy: { expiresAt: "desc" }, take: MAX_CEREMONIES_PER_USER - 1, select: { id: true } });
  if (kept.length < MAX_CEREMONIES_PER_USER - 1) return;
  await db().webAuthnChallenge.deleteMany({ where: { userId, id: { notIn: kept.map((row) => row.id) } } });
}

/** Takes a challenge out once: the first caller gets it, any replay gets null. */
async function consumeChallenge(id: string, purpose: Purpose): Promise<{ challenge: string; userId: string | null } | null> {
  if (!z.uuid().safeParse(id).success) return null;
  const row = await db().webAuthnChallenge.findUnique({ where: { id } });
  if (!row || row.purpose !== purpose) return null;
  const { count } = await db().webAuthnChallenge.deleteMany({ where: { id } });
  if (count !== 1 || row.expiresAt <= new Date()) return null;
  return { challenge: row.challenge, userId: row.userId };
}

export type PasskeyView = {
  id: string;
  name: string;
  authenticator: string | null;
  synced: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
};

export async function listPasskeys(userId: string): Promise<PasskeyView[]> {
  const rows = await db().passkey.findMany({ where: { userId }, orderBy: { createdAt: "asc" } });
  return rows.map((p) => ({ id: p.id, name: p.name, authenticator: authenticatorName(p.aaguid), synced: p.backedUp, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt }));
}

export async function passkeyRegistrationOptions(user: { id: string; email: string; name: string }): Promise<{ challengeId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
  const rp = relyingParty();
  const existing = await db().passkey.findMany({ where: { userId: user.id }, select: { credentialId: true, transports: true } });
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.name,
    userID: new TextEncoder().encode(user.id),
    attestationType: "none",
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
  return { challengeId: await storeChallenge(options.challenge, "register", user.id), options };
}

export type RegisterResult = { ok: true; passkey: PasskeyView } | { ok: false; message: string };

export async function registerPasskey(
  userId: string,
  input: { challengeId: string; response: unknown; name: string },
  ctx: AuditContext,
): Promise<RegisterResult> {
  const stored = await consumeChallenge(input.challengeId, "register");
  if (!stored || stored.userId !== userId) return { ok: false, message: "That passkey request expired. Try again." };
  const rp = relyingParty();
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response: input.response as RegistrationResponseJSON,
      expectedChallenge: stored.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
    });
  } catch (error) {
    await audit(ctx, { type: "mfa", action: "mfa.passkey.register", outcome: "failure", resource: { type: "user", id: userId }, metadata: { reason: errorReason(error) } });
    return { ok: false, message: "The passkey could not be verified. Try again." };
  }
  if (!verification.verified) {
    await audit(ctx, { type: "mfa", action: "mfa.passkey.register", outcome: "failure", resource: { type: "user", id: userId }, metadata: { reason: "not_verified" } });
    return { ok: false, message: "The passkey could not be verified. Try again." };
  }
  const info = verification.registrationInfo;
  // Unique in the database: two registrations of one credential at once cannot both land.
  const row = await db().passkey.create({
    data: {
      userId,
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey),
      counter: BigInt(info.credential.counter),
      // As the browser reported them (the library copies them unchecked): known values only.
      transports: (info.credential.transports ?? []).filter((t) => KNOWN_TRANSPORTS.has(t)),
      aaguid: info.aaguid,
      name: input.name,
      backupEligible: info.credentialDeviceType === "multiDevice",
      backedUp: info.credentialBackedUp,
    },
  }).catch((error: unknown) => {
    if (isUniqueViolation(error)) return null;
    throw error;
  });
  if (!row) return { ok: false, message: "That passkey is already registered." };
  await audit(ctx, {
    type: "mfa", action: "mfa.passkey.register", outcome: "success", resource: { type: "passkey", id: row.id },
    metadata: { userId, aaguid: info.aaguid, authenticator: authenticatorName(info.aaguid), backupEligible: row.backupEligible },
  });
  return { ok: true, passkey: { id: row.id, name: row.name, authenticator: authenticatorName(row.aaguid), synced: row.backedUp, createdAt: row.createdAt, lastUsedAt: null } };
}

/** Options for an assertion: the user's own passkeys, or (userId null) any discoverable one. */
export async function passkeyAuthenticationOptions(userId: string | null): Promise<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
  const allow = userId ? await db().passkey.findMany({ where: { userId }, select: { credentialId: true, transports: true } }) : [];
  const options = await generateAuthenticationOptions({
    rpID: relyingParty().id,
    userVerification: "required",
    allowCredentials: allow.map((c) => ({ id: c.credentialId, transports: c.transports })),
  });
  return { challengeId: await storeChallenge(options.challenge, "authenticate", userId), options };
}

// Each request for options stores a challenge, so requests are bounded. A browser with no account
// yet (the sign-in page, whose passkey autofill asks on every load) per address, generously: an
// office behind one NAT loads it often. A signed-in (or half signed-in) browser per session, 10 a
// minute: someone who holds only the password, stopped at the second factor, cannot evict the
// owner's ceremony in flight (an account keeps its 20 newest) in the time a person takes to answer.
export const CEREMONIES_PER_ADDRESS_PER_MINUTE = 300;
const CEREMONIES_PER_SESSION_PER_MINUTE = 10;
export const TOO_MANY_CEREMONIES = "Too many passkey requests. Wait a minute and try again.";

type AuthenticationOptions = Awaited<ReturnType<typeof passkeyAuthenticationOptions>>;

/** Options for a passkey sign-in from this address (null: its bound is reached). */
export async function passkeyOptionsForAddress(ip: string | null, now = new Date()): Promise<AuthenticationOptions | null> {
  return bounded(`webauthn:ip:${rateLimitAddress(ip)}`, CEREMONIES_PER_ADDRESS_PER_MINUTE, now, () => passkeyAuthenticationOptions(null));
}

/** Options for a session's own account (null: its bound is reached). */
export async function passkeyOptionsForSession(session: { id: string; sessionId: string }, now = new Date()): Promise<AuthenticationOptions | null> {
  return bounded(`webauthn:session:${hash("sha256", session.sessionId)}`, CEREMONIES_PER_SESSION_PER_MINUTE, now, () => passkeyAuthenticationOptions(session.id));
}

async function bounded(key: string, perMinute: number, now: Date, options: () => Promise<AuthenticationOptions>): Promise<AuthenticationOptions | null> {
  return (await bumpCounter(key, 60_000, now)).count > perMinute ? null : options();
}

// A credential id as the browser sends it; anything else cannot be one of ours.
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const KNOWN_TRANSPORTS = new Set<string>(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);

export type AssertionResult =
  | { ok: true; userId: string; passkeyId: string }
  | { ok: false; reason: "expired" | "unknown_credential" | "invalid" | "clone_suspected"; userId: string | null };

/** Verifies an assertion; with expectedUserId the passkey must be that user's. Audits a clone signal. */
export async function verifyPasskeyAssertion(
  input: { challengeId: string; response: unknown; expectedUserId?: string },
  ctx: AuditContext,
): Promise<AssertionResult> {
  const parsed = z.object({ id: z.string().min(1).max(1024).regex(BASE64URL) }).loose().safeParse(input.response);
  const stored = await consumeChallenge(input.challengeId, "authenticate");
  if (!stored) return { ok: false, reason: "expired", userId: input.expectedUserId ?? null };
  if (!parsed.success) return { ok: false, reason: "invalid", userId: input.expectedUserId ?? null };
  const passkey = await db().passkey.findUnique({ where: { credentialId: parsed.data.id } });
  if (!passkey || (input.expectedUserId && passkey.userId !== input.expectedUserId) || (stored.userId && passkey.userId !== stored.userId)) {
    return { ok: false, reason: "unknown_credential", userId: input.expectedUserId ?? null };
  }
  const rp = relyingParty();
  let authenticationInfo;
  try {
    // The library compares counters before it checks the signature, so anyone could make a forged
    // answer look like a clone (whose playbook resets the owner's factors). It is told 0 and the
    // counter is compared below, once the signature has proved the answer came from the key.
    const answer = await verifyAuthenticationResponse({
      response: input.response as AuthenticationResponseJSON,
      expectedChallenge: stored.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: { id: passkey.credentialId, publicKey: new Uint8Array(passkey.publicKey), counter: 0, transports: passkey.transports },
      requireUserVerification: true,
    });
    if (!answer.verified) return { ok: false, reason: "invalid", userId: passkey.userId };
    authenticationInfo = answer.authenticationInfo;
  } catch {
    return { ok: false, reason: "invalid", userId: passkey.userId };
  }
  // WebAuthn's sign counter must move forward (unless the authenticator keeps none: both 0); one
  // that did not means two authenticators hold the key. Compared in the update itself, so two
  // answers carrying the same counter cannot both pass.
  const presented = BigInt(authenticationInfo.newCounter);
  const counted = passkey.counter > BigInt(0) || presented > BigInt(0);
  const { count } = await db().passkey.updateMany({
    where: { id: passkey.id, ...(counted ? { counter: { lt: presented } } : {}) },
    data: { counter: presented, backedUp: authenticationInfo.credentialBackedUp, lastUsedAt: new Date() },
  });
  if (count === 1) return { ok: true, userId: passkey.userId, passkeyId: passkey.id };
  // Removed meanwhile (its owner or an admin): not a clone, whose playbook would reset the owner's factors.
  if (!counted || (await db().passkey.count({ where: { id: passkey.id } })) === 0) return { ok: false, reason: "unknown_credential", userId: passkey.userId };
  await audit(ctx, {
    type: "security", action: "mfa.passkey.clone_suspected", outcome: "blocked", resource: { type: "passkey", id: passkey.id },
    metadata: { userId: passkey.userId, storedCounter: passkey.counter.toString(), presentedCounter: presented.toString() },
  });
  return { ok: false, reason: "clone_suspected", userId: passkey.userId };
}

export async function renamePasskey(userId: string, passkeyId: string, name: string, ctx: AuditContext): Promise<boolean> {
  // Scoped by userId: another user's passkey id matches nothing.
  const { count } = await db().passkey.updateMany({ where: { id: passkeyId, userId }, data: { name } });
  if (count) await audit(ctx, { type: "mfa", action: "mfa.passkey.rename", outcome: "success", resource: { type: "passkey", id: passkeyId }, metadata: { userId, name } });
  return count === 1;
}

function errorReason(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : "unknown";
}
