import "server-only";
import { hash } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWK } from "jose";
import { changesSeen, onChange } from "../db/changes";
import { clientMetadata } from "./clients";
import { publicJwks } from "./keys";
import { issuer } from "./provider";

// Verifies the provider's own JWT access tokens (RFC 9068) for Gatehouse's machine APIs, locally:
// signature against the provider's published keys, issuer, audience (the API's resource
// indicator), type and expiry. Sender-constrained tokens (DPoP, mTLS) are refused here, since
// these APIs do not check the proof of possession.

const KEYS_MAX_AGE_MS = 5_000;
// The provider signs with a new key within half a second of a rotation (provider.ts): a token
// naming a key not in the set read before is worth one more read, but not more often than that, so
// tokens with made-up key ids cost no more than valid ones.
const UNKNOWN_KID_REREAD_MS = 500;
type KeySet = { at: number; set: ReturnType<typeof createLocalJWKSet>; kids: Set<string> };
let jwks: KeySet | null = null;
// A rotation or an early retirement on any instance is announced: the set is read again at once
// (and a read under way when the announcement came is not kept).
onChange("signing_keys", () => (jwks = null));

async function publicKeys(kid: string | undefined): Promise<KeySet> {
  const fresh = jwks && Date.now() - jwks.at < KEYS_MAX_AGE_MS;
  const unknownKid = jwks && kid && !jwks.kids.has(kid) && Date.now() - jwks.at >= UNKNOWN_KID_REREAD_MS;
  if (fresh && !unknownKid) return jwks!;
  // A retired key leaves this list, so its tokens stop verifying when the retirement is announced,
  // or within KEYS_MAX_AGE_MS (a key whose grace period simply ran out, a lost announcement).
  const changesBefore = changesSeen("signing_keys");
  const keys: JWK[] = await publicJwks();
  const read = { at: Date.now(), set: createLocalJWKSet({ keys }), kids: new Set(keys.map((k) => k.kid!)) };
  if (changesSeen("signing_keys") === changesBefore) jwks = read;
  return read;
}

function kidOf(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).kid;
  } catch {
    return undefined; // not a JWT: jwtVerify says so below
  }
}

export type VerifiedAccessToken = { readonly clientId: string; readonly subject: string; readonly scopes: ReadonlySet<string> };
export type TokenProblem = { error: "invalid_token" | "insufficient_scope"; description: string };

// Services call with the same token many times over its life; checking its signature each time
// was most of a decision's cost. A token that verified is remembered (by the SHA-256 of audience
// and token, never the token itself) until it expires or its signing key leaves the key set.
// JWT access tokens are not stored, so revoking a grant does not reach them; disabling or
// deleting their client does (checked on every call against the provider's cached client list,
// which every instance drops on the change's announcement).
const REMEMBERED_MAX = 10_000;
type Remembered = { verified: VerifiedAccessToken; expiresAtMs: number; kid: string };
const remembered = new Map<string, Remembered>();

function remember(key: string, entry: Remembered) {
  if (remembered.size >= REMEMBERED_MAX) remembered.delete(remembered.keys().next().value!);
  remembered.set(key, entry);
}

/**
 * A JWT access token of Gatehouse's provider for `audience` with `requiredScope`, of a client still
 * enabled. `clientsOnly`: a client's own token (client credentials), not one issued to a client for
 * a user: an API for services must not answer an app's end users.
 */
export async function verifyAccessToken(token: string, audience: string, requiredScope: string, { clientsOnly = false } = {}): Promise<VerifiedAccessToken | TokenProblem> {
  const verified = await verifiedToken(token, audience, requiredScope);
  if (clientsOnly && !("error" in verified) && verified.subject !== verified.clientId) {
    return { error: "invalid_token", description: "This API answers services: send a token the client got for itself (client credentials), not one issued for a user." };
  }
  return verified;
}

async function verifiedToken(token: string, audience: string, requiredScope: string): Promise<VerifiedAccessToken | TokenProblem> {
  const key = hash("sha256", `${audience}\n${token}`, "base64");
  const known = remembered.get(key);
  // A remembered token's key id is known: its header is decoded only the first time.
  const keys = await publicKeys(known?.kid ?? kidOf(token));
  if (known && known.expiresAtMs > Date.now() && keys.kids.has(known.kid)) return withLiveClient(known.verified, requiredScope);
  if (known) remembered.delete(key);
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys.set, { issuer: issuer(), audience, typ: "at+jwt", algorithms: ["ES256", "EdDSA"] });
    if (payload.cnf) return { error: "invalid_token", description: "Sender-constrained (DPoP or certificate-bound) tokens are not accepted by this API." };
    const verified = { clientId: String(payload.client_id ?? ""), subject: String(payload.sub ?? ""), scopes: new Set(typeof payload.scope === "string" ? payload.scope.split(" ") : []) };
    // The provider always sets exp and kid; a token without them is verified every time.
    if (payload.exp && protectedHeader.kid) remember(key, { verified, expiresAtMs: payload.exp * 1000, kid: protectedHeader.kid });
    return withLiveClient(verified, requiredScope);
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return { error: "invalid_token", description: "The access token is invalid or expired." };
    throw error;
  }
}

async function withLiveClient(verified: VerifiedAccessToken, requiredScope: string): Promise<VerifiedAccessToken | TokenProblem> {
  if (!(await clientMetadata(verified.clientId))) return { error: "invalid_token", description: "The client this token was issued to is disabled or deleted." };
  return withScope(verified, requiredScope);
}

function withScope(verified: VerifiedAccessToken, requiredScope: string): VerifiedAccessToken | TokenProblem {
  if (!verified.scopes.has(requiredScope)) return { error: "insufficient_scope", description: `The token lacks the "${requiredScope}" scope.` };
  return verified;
}
