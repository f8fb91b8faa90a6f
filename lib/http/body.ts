import type { IncomingMessage, ServerResponse } from "node:http";
import { sendProblem, TOO_LARGE } from "./problem";

// Request body ceilings: a body over the limit is refused as soon as it is known, before it is all
// in memory. Not "server-only": server.ts checks declared lengths before any handler runs.

/** The largest body a route accepts: uploaded compliance reports may be large, nothing else is. */
export const REPORT_UPLOAD_MAX_BYTES = 20 * 1024 * 1024;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const REPORT_UPLOAD_PATH = "/api/v1/compliance/report/verify";
export const maxBodyBytes = (path: string) => (path === REPORT_UPLOAD_PATH ? REPORT_UPLOAD_MAX_BYTES : DEFAULT_MAX_BODY_BYTES);

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The body is limited to ${maxBytes} bytes.`);
  }
}

/** Reads a body (a web Request's or Node's request) as text, refusing it past `maxBytes`, declared or sent. */
export async function readTextLimited(source: Request | IncomingMessage, maxBytes: number): Promise<string> {
  const declared = source instanceof Request ? source.headers.get("content-length") : source.headers["content-length"];
  if (Number(declared ?? 0) > maxBytes) throw new BodyTooLargeError(maxBytes);
  if (!(source instanceof Request)) return readNodeStream(source, maxBytes);
  if (!source.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

// Stream events rather than `for await`: the decision point reads a body per decision, and the
// async iterator's promises showed in its profile. A body past the limit is drained unread, so
// the refusal can still be answered on the same connection.
function readNodeStream(stream: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      stream.off("data", onData).off("end", onEnd).resume();
      reject(new BodyTooLargeError(maxBytes));
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString("utf8"));
    stream.on("data", onData).once("end", onEnd).once("error", reject);
  });
}

/**
 * Answers 413 to a request whose body is over `limit`. The rest of a refused body is drained for
 * a moment, not cut off at once (a client or a proxy still sending would see a reset instead of
 * the answer); one that keeps sending is cut off after a second.
 */
export function refuseOversizedBody(req: IncomingMessage, res: ServerResponse, limit: number): void {
  refuseBody(req, res, 413, TOO_LARGE, `The body is limited to ${limit} bytes.`);
}

/**
 * Next.js reads the body of a form post, a server action or an auth call whole before any ceiling
 * of ours can count it, so such a body must declare its length (browsers always do; a proxy in
 * front must not stream it on in chunks): one of undeclared total could be of any size. True when
 * `req` is such a request, answered 411. The compliance report upload (a route that reads its own
 * body, counting what arrives) may stream.
 */
export function refusedUndeclaredLength(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  if (req.headers["transfer-encoding"] === undefined || req.headers["content-length"] !== undefined) return false;
  if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS" || pathname === REPORT_UPLOAD_PATH) return false;
  refuseBody(req, res, 411, "invalid_request", "Send the body with a Content-Length header.");
  return true;
}

function refuseBody(req: IncomingMessage, res: ServerResponse, status: number, error: string, description: string): void {
  req.resume();
  sendProblem(res, status, error, description);
  res.once("finish", () => setTimeout(() => req.complete || req.destroy(), 1_000).unref());
}
