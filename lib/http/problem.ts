// The JSON error body of every machine answer ({ error, error_description }, as OAuth's), for web
// Responses and for Node's res. Not "server-only": proxy.ts and server.ts use it too.
import type { ServerResponse } from "node:http";

export function problem(status: number, error: string, description: string, headers?: HeadersInit): Response {
  return Response.json({ error, error_description: description }, { status, headers });
}

/** A JSON answer on Node's res, never cached. (Node leaves the body out when answering HEAD.) */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(json), ...headers }).end(json);
}

export function sendProblem(res: ServerResponse, status: number, error: string, description: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error, error_description: description }, headers);
}

/** A body over its ceiling, the same words everywhere. */
export const TOO_LARGE = "request_too_large";
