// The hand-over between Next's runtime, which builds handlers that need server-only modules
// (instrumentation.ts), and server.ts, which routes some requests to them on Node's req/res
// before Next sees them (the OIDC provider; the decision-point API, for speed). Deliberately free
// of imports: server.ts loads it outside Next.
import type { IncomingMessage, ServerResponse } from "node:http";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
export type HandlerName = "oidc" | "pdp" | "ready";

const KEY = Symbol.for("gatehouse.node.handlers");
type Slot = { handler?: NodeHandler; waiters: ((h: NodeHandler) => void)[] };
const slots = ((globalThis as unknown as Record<symbol, Partial<Record<HandlerName, Slot>>>)[KEY] ??= {});
const slot = (name: HandlerName) => (slots[name] ??= { waiters: [] });

export function publishHandler(name: HandlerName, handler: NodeHandler): void {
  const s = slot(name);
  s.handler = handler;
  for (const resolve of s.waiters.splice(0)) resolve(handler);
}

/** The handler if the Next.js instance has published it yet (for answers that must not wait, like readiness). */
export function publishedHandler(name: HandlerName): NodeHandler | undefined {
  return slot(name).handler;
}

/** The handler once the Next.js instance has published it (requests that arrive earlier wait). */
export function handlerFor(name: HandlerName): Promise<NodeHandler> {
  const s = slot(name);
  return s.handler ? Promise.resolve(s.handler) : new Promise((resolve) => s.waiters.push(resolve));
}
