import "server-only";
import { headers } from "next/headers";
import { CLIENT_IP_HEADER, REQUEST_PATH_HEADER } from "./client-ip";

export type RequestContext = { ip: string | null; userAgent: string | null };

const MAX_USER_AGENT = 512;

/** IP (as resolved by server.ts) and user agent of the request being served. */
export async function requestContext(): Promise<RequestContext> {
  const h = await headers();
  return {
    ip: h.get(CLIENT_IP_HEADER),
    userAgent: h.get("user-agent")?.slice(0, MAX_USER_AGENT) ?? null,
  };
}

/** The path (with query) of the page being served, as the browser asked for it. */
export async function requestPath(): Promise<string> {
  return (await headers()).get(REQUEST_PATH_HEADER) ?? "/";
}
