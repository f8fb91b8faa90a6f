import "server-only";
import { headers } from "next/headers";
import { CLIENT_IP_HEADER, CLIENT_LOCATION_HEADER, REQUEST_PATH_HEADER } from "./client-ip";

export type ClientHints = { brands?: string; platform?: string; mobile?: string };
export type RequestContext = { ip: string | null; userAgent: string | null; clientHints?: ClientHints; location?: string | null };

const MAX_USER_AGENT = 512;

/** IP (as resolved by server.ts) and user agent of the request being served. */
export async function requestContext(): Promise<RequestContext> {
  const h = await headers();
  return {
    ip: h.get(CLIENT_IP_HEADER),
    userAgent: h.get("user-agent")?.slice(0, MAX_USER_AGENT) ?? null,
    clientHints: clientHints(h),
    location: h.get(CLIENT_LOCATION_HEADER),
  };
}

/** The path (with query) of the page being served, as the browser asked for it. */
export async function requestPath(): Promise<string> {
  const url = new URL((await headers()).get(REQUEST_PATH_HEADER) ?? "/", "http://any");
  // Next's client router adds ?_rsc=… to its own fetches; it is not part of the page's address.
  url.searchParams.delete("_rsc");
  return `${url.pathname}${url.search}`;
}

// Low-entropy User-Agent Client Hints, which Chromium browsers send unasked.
function clientHints(h: Headers): ClientHints | undefined {
  const pick = (name: string) => h.get(name)?.slice(0, 200) ?? undefined;
  const hints = { brands: pick("sec-ch-ua"), platform: pick("sec-ch-ua-platform")?.replaceAll('"', ""), mobile: pick("sec-ch-ua-mobile") };
  return hints.brands || hints.platform ? hints : undefined;
}
