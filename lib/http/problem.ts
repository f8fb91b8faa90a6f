// The JSON error body of every machine answer ({ error, error_description }, as OAuth's), for web
// Responses and for Node's res. Not "server-only": proxy.ts and server.ts use it too.
import type { ServerResponse } from "node:http";

export function problem(status: number, error: string, description: string, headers?: HeadersInit): Response {
  return Response.json({ error, error_description: description }, { status, headers });
}

export function sendProblem(res: ServerResponse, status: number, error: string, description: string, headers: Record<string, string> = {}): void {
  const json = JSON.stringify({ error, error_description: description });
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(json), ...headers }).end(json);
}

/** A body over its ceiling, the same words everywhere. */
export const TOO_LARGE = "request_too_large";
