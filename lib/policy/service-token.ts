import "server-only";
import { issuer, verifyAccessToken } from "../oidc";
import { PDP_PATH } from "./paths";

// The decision point's APIs (POST /api/v1/authorize, /api/v1/policy-schemas) answer services: a
// bearer access token from Gatehouse's own provider for the decision point's resource (RFC 8707),
// the service's own (client credentials), carrying `scope`.

export type ServiceTokenRefusal = { status: 401 | 403; error: string; description: string; headers: Record<string, string> };

/** The calling service's client id, or how to refuse it (with its WWW-Authenticate challenge). */
export async function serviceCaller(authorization: string | null | undefined, scope: string): Promise<{ clientId: string } | ServiceTokenRefusal> {
  // The scheme's name is case-insensitive (RFC 7235 §2.1): "bearer" and "BEARER" are Bearer too.
  const token = /^Bearer ([\w.~+/-]+=*)$/i.exec(authorization ?? "")?.[1];
  const challenge = (error?: string) => ({ "www-authenticate": `Bearer realm="gatehouse"${error ? `, error="${error}"` : ""}, scope="${scope}"` });
  if (!token) return { status: 401, error: "invalid_token", description: "Send an access token: Authorization: Bearer <token>.", headers: challenge() };
  const verified = await verifyAccessToken(token, `${issuer()}${PDP_PATH}`, scope, { clientsOnly: true });
  if ("error" in verified) return { status: verified.error === "insufficient_scope" ? 403 : 401, error: verified.error, description: verified.description, headers: challenge(verified.error) };
  return { clientId: verified.clientId };
}
