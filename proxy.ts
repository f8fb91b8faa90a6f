// Next.js proxy (the successor of middleware): malformed server action calls are refused before
// Next.js decodes them (lib/http/action-envelope.ts), and every page gets a fresh CSP nonce:
// Next.js reads the policy from the request and puts the nonce on its scripts; the browser gets
// the same policy.
import { NextResponse, type NextRequest } from "next/server";
import { pageCsp } from "./lib/http/security-headers";
import { actionEnvelopeProblem } from "./lib/http/action-envelope";
import { problem } from "./lib/http/problem";

export async function proxy(request: NextRequest) {
  // Next.js answers 500 to a path it cannot percent-decode.
  if (!decodablePath(request.nextUrl.pathname)) return problem(400, "invalid_request", "The address is malformed.");
  const refusal = await actionEnvelopeProblem(request);
  if (refusal) return refusal;
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const csp = pageCsp(nonce, process.env.NODE_ENV !== "production");
  const headers = new Headers(request.headers);
  headers.set("x-nonce", nonce);
  headers.set("content-security-policy", csp);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("content-security-policy", csp);
  return response;
}

function decodablePath(pathname: string): boolean {
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

export const config = {
  // Every request but static files: prefetches too (their headers are the client's to set, so
  // skipping them would skip the action check).
  // Anchored: "/_next/staticX…" or "/faviconXico" is not a static file, and gets the proxy too.
  // Nor the report upload: Next.js copies every body a proxy might read, cut at 10 MB, and the
  // route would read that cut copy (a 10–20 MB report judged "not a report"; lib/http/body.ts).
  matcher: ["/((?!_next/static/|_next/image$|favicon\\.ico$|api/v1/compliance/report/verify$).*)"],
};
