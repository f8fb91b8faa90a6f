import "server-only";
import type Provider from "oidc-provider";
import { publishHandler, type NodeHandler } from "../http/node-handlers";
import { getProvider } from "./provider";
import { sweepExpiredOidcModels } from "./adapter";
import { sweepSessionSignIns } from "./session-sign-ins";
import { logOutOfApps } from "./backchannel";

const SWEEP_MS = 10 * 60_000;
const BACKCHANNEL_SWEEP_MS = 2_000;
// One Koa handler per provider instance (a key rotation builds a new provider).
const handlers = new WeakMap<Provider, NodeHandler>();

/** Serves one request with the provider of the moment (server.ts hands it the OpenID routes; the tests use it too). */
export const handleOidcRequest: NodeHandler = async (req, res) => {
  let provider: Provider;
  try {
    provider = await getProvider();
  } catch (error) {
    console.error("OpenID provider unavailable:", error instanceof Error ? error.message : error);
    res.writeHead(503, { "content-type": "application/json", "retry-after": "5" }).end(JSON.stringify({ error: "temporarily_unavailable" }));
    return;
  }
  // The RFC 8414 document is the same as OpenID discovery here.
  if (req.url?.startsWith("/.well-known/oauth-authorization-server")) req.url = "/.well-known/openid-configuration";
  let callback = handlers.get(provider);
  if (!callback) handlers.set(provider, (callback = provider.callback()));
  await callback(req, res);
};

/** Called once at server start (instrumentation.ts): hands the provider to server.ts and warms it up. */
export async function startOidc(): Promise<void> {
  publishHandler("oidc", handleOidcRequest);
  await getProvider().catch((error: unknown) => console.error("OpenID provider failed to start:", error instanceof Error ? error.message : error));
  setInterval(() => void sweepExpiredOidcModels().then(sweepSessionSignIns).catch(() => undefined), SWEEP_MS).unref();
  // Apps hear of a sign-in that ended within seconds, however it ended (backchannel.ts).
  setInterval(() => void logOutOfApps().catch((error: unknown) => console.error("Back-channel logout failed:", error instanceof Error ? error.message : error)), BACKCHANNEL_SWEEP_MS).unref();
}
