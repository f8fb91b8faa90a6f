// The hand-over between Next's runtime, which builds the provider (instrumentation.ts, where the
// server-only modules it needs can load), and server.ts, which routes protocol requests to it.
// Deliberately free of imports: server.ts loads it outside Next.
import type { IncomingMessage, ServerResponse } from "node:http";

export type OidcHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const KEY = Symbol.for("gatehouse.oidc.handler");
type Slot = { handler?: OidcHandler; waiters: ((h: OidcHandler) => void)[] };
const slot = ((globalThis as unknown as Record<symbol, Slot>)[KEY] ??= { waiters: [] });

export function publishOidcHandler(handler: OidcHandler): void {
  slot.handler = handler;
  for (const resolve of slot.waiters.splice(0)) resolve(handler);
}

export function oidcHandler(): Promise<OidcHandler> {
  return slot.handler ? Promise.resolve(slot.handler) : new Promise((resolve) => slot.waiters.push(resolve));
}

/** Paths the provider answers: its own routes and the two discovery documents. */
export function isOidcPath(url: string): boolean {
  return url.startsWith("/oidc/") || url.startsWith("/.well-known/openid-configuration") || url.startsWith("/.well-known/oauth-authorization-server");
}
