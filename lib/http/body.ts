// Request body ceilings: a body over the limit is refused as soon as it is known, before it is all
// in memory. Not "server-only": server.ts checks declared lengths before any handler runs.

/** The largest body a route accepts: uploaded compliance reports may be large, nothing else is. */
export const REPORT_UPLOAD_MAX_BYTES = 20 * 1024 * 1024;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const maxBodyBytes = (path: string) => (path === "/api/v1/compliance/report/verify" ? REPORT_UPLOAD_MAX_BYTES : DEFAULT_MAX_BODY_BYTES);

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The body is limited to ${maxBytes} bytes.`);
  }
}

/** Reads a body (a web Request's or Node's request stream) as text, refusing it past `maxBytes`. */
export async function readTextLimited(source: Request | AsyncIterable<Uint8Array>, maxBytes: number): Promise<string> {
  const declared = source instanceof Request ? source.headers.get("content-length") : null;
  if (Number(declared ?? 0) > maxBytes) throw new BodyTooLargeError(maxBytes);
  const stream = source instanceof Request ? source.body : source;
  if (!stream) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
