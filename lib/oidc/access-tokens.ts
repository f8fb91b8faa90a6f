import "server-only";
import { createLocalJWKSet, errors as joseErrors, jwtVerify } from "jose";
import { publicJwks } from "./keys";
import { issuer } from "./provider";

// Verifies the provider's own JWT access tokens (RFC 9068) for Gatehouse's machine APIs, locally:
// signature against the provider's published keys, issuer, audience (the API's resource
// indicator), type and expiry. Sender-constrained tokens (DPoP, mTLS) are refused here, since
// these APIs do not check the proof of possession.

const KEYS_MAX_AGE_MS = 5_000;
let jwks: { at: number; set: ReturnType<typeof createLocalJWKSet> } | null = null;

async function publicKeys() {
  if (jwks && Date.now() - jwks.at < KEYS_MAX_AGE_MS) return jwks.set;
  // A retired key leaves this list, so its tokens stop verifying within KEYS_MAX_AGE_MS.
  jwks = { at: Date.now(), set: createLocalJWKSet({ keys: await publicJwks() }) };
  return jwks.set;
}

export type VerifiedAccessToken = { clientId: string; subject: string; scopes: Set<string> };
export type TokenProblem = { error: "invalid_token" | "insufficient_scope"; description: string };

export async function verifyAccessToken(token: string, audience: string, requiredScope: string): Promise<VerifiedAccessToken | TokenProblem> {
  try {
    const { payload } = await jwtVerify(token, await publicKeys(), { issuer: issuer(), audience, typ: "at+jwt", algorithms: ["ES256", "EdDSA"] });
    if (payload.cnf) return { error: "invalid_token", description: "Sender-constrained (DPoP or certificate-bound) tokens are not accepted by this API." };
    const scopes = new Set(typeof payload.scope === "string" ? payload.scope.split(" ") : []);
    if (!scopes.has(requiredScope)) return { error: "insufficient_scope", description: `The token lacks the "${requiredScope}" scope.` };
    return { clientId: String(payload.client_id ?? ""), subject: String(payload.sub ?? ""), scopes };
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return { error: "invalid_token", description: "The access token is invalid or expired." };
    throw error;
  }
}
