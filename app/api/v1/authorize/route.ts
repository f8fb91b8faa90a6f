import type { NextRequest } from "next/server";
import { z } from "zod";
import { problem } from "@/lib/auth";
import { issuer, verifyAccessToken } from "@/lib/oidc";
import { decideForService, pdpBodySchema, PDP_MAX_BODY_BYTES, PDP_PATH, PDP_SCOPE } from "@/lib/policy";
import { requestContext } from "@/lib/http/request-context";

/**
 * POST /api/v1/authorize: the decision point for other services. Bearer access token from
 * Gatehouse's own provider: a JWT for this resource (RFC 8707) carrying the "pdp" scope.
 */
export async function POST(request: NextRequest) {
  const token = /^Bearer ([\w.~+/-]+=*)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  const challenge = (error: string) => ({ "WWW-Authenticate": `Bearer realm="gatehouse", error="${error}", scope="${PDP_SCOPE}"` });
  if (!token) return problem(401, "invalid_token", "Send an access token: Authorization: Bearer <token>.", { "WWW-Authenticate": `Bearer realm="gatehouse", scope="${PDP_SCOPE}"` });
  const verified = await verifyAccessToken(token, `${issuer()}${PDP_PATH}`, PDP_SCOPE);
  if ("error" in verified) return problem(verified.error === "insufficient_scope" ? 403 : 401, verified.error, verified.description, challenge(verified.error));

  if (!request.headers.get("content-type")?.startsWith("application/json")) return problem(415, "invalid_request", "Send the request as application/json.");
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > PDP_MAX_BODY_BYTES) return problem(413, "invalid_request", `The body is limited to ${PDP_MAX_BODY_BYTES} bytes.`);
  const text = await request.text();
  if (Buffer.byteLength(text) > PDP_MAX_BODY_BYTES) return problem(413, "invalid_request", `The body is limited to ${PDP_MAX_BODY_BYTES} bytes.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return problem(400, "invalid_request", "The body is not valid JSON.");
  }
  const body = pdpBodySchema.safeParse(json);
  if (!body.success) return problem(400, "invalid_request", z.prettifyError(body.error));

  const caller = { actor: { type: "client" as const, id: verified.clientId, label: verified.clientId }, client: await requestContext() };
  return Response.json(await decideForService(body.data, caller), { headers: { "Cache-Control": "no-store" } });
}
