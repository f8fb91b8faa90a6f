import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { CLIENT_IP_HEADER } from "../http/client-ip";
import { BodyTooLargeError, readTextLimited, refuseOversizedBody } from "../http/body";
import { sendJson, sendProblem } from "../http/problem";
import { nestsDeeperThan } from "../util/json";
import { publishHandler } from "../http/node-handlers";
import { decideForService, pdpBodySchema, PDP_MAX_BODY_BYTES, PDP_SCOPE } from "./service-api";
import { serviceCaller } from "./service-token";

const PDP_MAX_DEPTH = 32;

// POST /api/v1/authorize on Node's req/res (server.ts routes it here): the decision point for
// other services. Bearer access token from Gatehouse's own provider: a JWT for this resource
// (RFC 8707) carrying the "pdp" scope.

export async function handleAuthorize(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    if (req.method !== "POST") return sendProblem(res, 405, "invalid_request", "Use POST.", { allow: "POST" });
    const verified = await serviceCaller(req.headers.authorization, PDP_SCOPE);
    if ("error" in verified) return sendProblem(res, verified.status, verified.error, verified.description, verified.headers);

    if (req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase() !== "application/json") return sendProblem(res, 415, "invalid_request", "Send the request as application/json.");
    let json: unknown;
    try {
      json = JSON.parse(await readTextLimited(req, PDP_MAX_BODY_BYTES));
    } catch (error) {
      if (error instanceof BodyTooLargeError) return refuseOversizedBody(req, res, PDP_MAX_BODY_BYTES);
      return sendProblem(res, 400, "invalid_request", "The body is not valid JSON.");
    }
    // Validation walks the body recursively: a deeply nested one would exhaust the stack.
    if (nestsDeeperThan(json, PDP_MAX_DEPTH)) return sendProblem(res, 400, "invalid_request", `The body nests more than ${PDP_MAX_DEPTH} levels deep.`);
    const body = pdpBodySchema.safeParse(json);
    if (!body.success) return sendProblem(res, 400, "invalid_request", z.prettifyError(body.error));

    const ip = req.headers[CLIENT_IP_HEADER];
    const caller = { actor: { type: "client" as const, id: verified.clientId, label: verified.clientId }, client: { ip: typeof ip === "string" ? ip : null, userAgent: req.headers["user-agent"]?.slice(0, 512) ?? null } };
    const answer = await decideForService(body.data, caller);
    if ("unreadable" in answer) return sendProblem(res, 400, "invalid_request", answer.unreadable);
    sendJson(res, 200, answer);
  } catch (error) {
    console.error("[pdp]", error instanceof Error ? error.message : error);
    if (!res.headersSent) sendProblem(res, 500, "server_error", "The decision point failed; nothing was decided.");
  }
}

/** Called once at server start (instrumentation.ts): hands the API to server.ts. */
export function startDecisionPointApi(): void {
  publishHandler("pdp", handleAuthorize);
}
