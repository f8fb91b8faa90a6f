import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { CLIENT_IP_HEADER } from "../http/client-ip";
import { publishHandler } from "../http/node-handlers";
import { issuer, verifyAccessToken } from "../oidc";
import { decideForService, pdpBodySchema, PDP_MAX_BODY_BYTES, PDP_PATH, PDP_SCOPE } from "./service-api";

// POST /api/v1/authorize on Node's req/res (server.ts routes it here): the decision point for
// other services. Bearer access token from Gatehouse's own provider: a JWT for this resource
// (RFC 8707) carrying the "pdp" scope.

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const json = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(json), ...headers }).end(json);
}
const problem = (res: ServerResponse, status: number, error: string, description: string, headers?: Record<string, string>) =>
  send(res, status, { error, error_description: description }, headers);

class TooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > PDP_MAX_BODY_BYTES) throw new TooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function handleAuthorize(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    if (req.method !== "POST") return problem(res, 405, "invalid_request", "Use POST.", { allow: "POST" });
    const token = /^Bearer ([\w.~+/-]+=*)$/.exec(req.headers.authorization ?? "")?.[1];
    const challenge = (error?: string) => ({ "www-authenticate": `Bearer realm="gatehouse"${error ? `, error="${error}"` : ""}, scope="${PDP_SCOPE}"` });
    if (!token) return problem(res, 401, "invalid_token", "Send an access token: Authorization: Bearer <token>.", challenge());
    const verified = await verifyAccessToken(token, `${issuer()}${PDP_PATH}`, PDP_SCOPE);
    if ("error" in verified) return problem(res, verified.error === "insufficient_scope" ? 403 : 401, verified.error, verified.description, challenge(verified.error));

    if (!req.headers["content-type"]?.startsWith("application/json")) return problem(res, 415, "invalid_request", "Send the request as application/json.");
    if (Number(req.headers["content-length"] ?? 0) > PDP_MAX_BODY_BYTES) return problem(res, 413, "invalid_request", `The body is limited to ${PDP_MAX_BODY_BYTES} bytes.`);
    let json: unknown;
    try {
      json = JSON.parse(await readBody(req));
    } catch (error) {
      if (error instanceof TooLarge) return problem(res, 413, "invalid_request", `The body is limited to ${PDP_MAX_BODY_BYTES} bytes.`);
      return problem(res, 400, "invalid_request", "The body is not valid JSON.");
    }
    const body = pdpBodySchema.safeParse(json);
    if (!body.success) return problem(res, 400, "invalid_request", z.prettifyError(body.error));

    const ip = req.headers[CLIENT_IP_HEADER];
    const caller = { actor: { type: "client" as const, id: verified.clientId, label: verified.clientId }, client: { ip: typeof ip === "string" ? ip : null, userAgent: req.headers["user-agent"]?.slice(0, 512) ?? null } };
    send(res, 200, await decideForService(body.data, caller));
  } catch (error) {
    console.error("[pdp]", error instanceof Error ? error.message : error);
    if (!res.headersSent) problem(res, 500, "server_error", "The decision point failed; nothing was decided.");
  }
}

/** Called once at server start (instrumentation.ts): hands the API to server.ts. */
export function startDecisionPointApi(): void {
  publishHandler("pdp", handleAuthorize);
}
