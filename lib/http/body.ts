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

export async function readTextLimited(request: Request, maxBytes: number): Promise<string> {
  if (Number(request.headers.get("content-length") ?? 0) > maxBytes) throw new BodyTooLargeError(maxBytes);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
