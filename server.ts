// Gatehouse's server: one Node process that prepares the database, then serves the Next.js app.
// The OpenID Connect provider and the decision-point API are served on Node's req/res directly.
import { createServer } from "node:http";
import { mkdirSync } from "node:fs";
import path from "node:path";
import next from "next";
import { publicUrl, readConfig } from "./lib/config";
import { startEmbeddedPostgres } from "./lib/db/embedded";
import { markEmbeddedDatabase } from "./lib/db/embedded-flag";
import { applyMigrations } from "./lib/db/migrate";
import { CLIENT_IP_HEADER, CLIENT_LOCATION_HEADER, REQUEST_PATH_HEADER, isTrustedPeer, parseTrustedProxies, resolveClientIp } from "./lib/http/client-ip";
import { missingSecrets, applyLocalSecrets } from "./lib/local-secrets";
import { handlerFor, publishedHandler } from "./lib/http/node-handlers";
import { isOidcPath } from "./lib/oidc/mount";
import { logFilePath, teeOutputToLogFile } from "./lib/log/file";
import { PROVIDER_CSP, SECURITY_HEADERS } from "./lib/http/security-headers";
import { maxBodyBytes, refusedUndeclaredLength, refuseOversizedBody } from "./lib/http/body";
import { sendJson, sendProblem } from "./lib/http/problem";
import { PDP_PATH } from "./lib/policy/paths";
import { avoidWasmDeoptCrash } from "./lib/util/v8-workaround";

avoidWasmDeoptCrash();

const dev = process.env.NODE_ENV !== "production";
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";

async function prepareDatabase() {
  const config = readConfig();
  if (config.DATABASE_URL) {
    const missing = missingSecrets();
    if (missing.length) throw new Error(`With an external DATABASE_URL these must be set (npm run keys:generate): ${missing.join(", ")}`);
    return { close: async () => {} };
  }
  const dataDir = path.resolve(config.GATEHOUSE_DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const embedded = await startEmbeddedPostgres(dataDir);
  // The embedded server takes one connection at a time: the app's pool must be a pool of one.
  process.env.DATABASE_URL = embedded.connectionString;
  process.env.DATABASE_POOL_MAX = "1";
  markEmbeddedDatabase();
  applyLocalSecrets(dataDir);
  console.log(`Embedded PostgreSQL in ${dataDir}`);
  return embedded;
}

async function main() {
  const started = Date.now();
  const logFile = logFilePath();
  if (logFile) teeOutputToLogFile(logFile);
  const database = await prepareDatabase();
  const { applied } = await applyMigrations(process.env.DATABASE_URL!);
  if (applied.length) console.log(`Applied migrations: ${applied.join(", ")}`);

  // "localhost", not an IP: passkeys need a domain name as their relying-party id.
  process.env.GATEHOUSE_URL ??= `http://${["0.0.0.0", "127.0.0.1", "::1", "::"].includes(host) ? "localhost" : host}:${port}`;
  const app = next({ dev, hostname: host, port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const { GATEHOUSE_TRUSTED_PROXIES, GATEHOUSE_LOCATION_HEADER, GATEHOUSE_CLIENT_CERT_HEADER } = readConfig();
  const proxies = parseTrustedProxies(GATEHOUSE_TRUSTED_PROXIES);
  const locationHeader = GATEHOUSE_LOCATION_HEADER?.toLowerCase();
  const origin = publicUrl();

  const server = createServer((req, res) => {
    // Every answer carries them, also one given before Next.js (whose config adds them too) sees the request.
    for (const { key, value } of SECURITY_HEADERS) res.setHeader(key, value);
    // Only this server sets these headers: client-sent ones of the same names are replaced.
    const forwarded = req.headers["x-forwarded-for"];
    const ip = resolveClientIp(req.socket.remoteAddress, Array.isArray(forwarded) ? forwarded.join(",") : forwarded, proxies);
    if (ip) req.headers[CLIENT_IP_HEADER] = ip;
    else delete req.headers[CLIENT_IP_HEADER];
    req.headers[REQUEST_PATH_HEADER] = req.url ?? "/";
    const location = locationHeader && isTrustedPeer(req.socket.remoteAddress, proxies) ? req.headers[locationHeader] : undefined;
    if (typeof location === "string" && location) req.headers[CLIENT_LOCATION_HEADER] = location.slice(0, 100);
    else delete req.headers[CLIENT_LOCATION_HEADER];
    // A declared body over the route's ceiling is refused before anything reads it (the provider and
    // the PDP also count what actually arrives: lib/http/body.ts; for Next.js, which does not, a
    // body must declare its length: refusedUndeclaredLength below).
    const pathname = (req.url ?? "").split("?")[0]!;
    const limit = maxBodyBytes(pathname);
    if (Number(req.headers["content-length"] ?? 0) > limit) return refuseOversizedBody(req, res, limit);
    const oidc = isOidcPath(req.url ?? "");
    if (oidc || pathname === PDP_PATH || pathname === "/healthz" || pathname === "/readyz") {
      // Served outside Next.js (below), so the proxy's page CSP does not reach them.
      res.setHeader("Content-Security-Policy", PROVIDER_CSP);
    }
    if (oidc) {
      // The provider builds its endpoints' URLs from the request (discovery, redirects, the token
      // endpoint a client assertion must name): always the public URL, whatever Host or
      // X-Forwarded-* a client (or a proxy passing them through) sent, so a cache in front cannot be
      // poisoned with another host's endpoints.
      req.headers.host = origin.host;
      req.headers["x-forwarded-host"] = origin.host;
      req.headers["x-forwarded-proto"] = origin.protocol.slice(0, -1);
      delete req.headers["x-forwarded-port"];
      // Only a trusted proxy may forward a client certificate (RFC 8705 certificate-bound tokens).
      if (GATEHOUSE_CLIENT_CERT_HEADER && !isTrustedPeer(req.socket.remoteAddress, proxies)) delete req.headers[GATEHOUSE_CLIENT_CERT_HEADER.toLowerCase()];
      void handlerFor("oidc").then((oidc) => oidc(req, res));
      return;
    }
    // The decision-point API is called for every access decision of other services: served on
    // Node's req/res without Next's request machinery (see bench/README.md).
    if (pathname === PDP_PATH) {
      void handlerFor("pdp").then((pdp) => pdp(req, res));
      return;
    }
    // For load balancers: /healthz, the process answers; /readyz, this instance can serve
    // (lib/health: the database and the OpenID provider), and not before Next.js is up.
    if (pathname === "/healthz") {
      if (req.method !== "GET" && req.method !== "HEAD") return sendProblem(res, 405, "invalid_request", "Use GET.", { allow: "GET, HEAD" });
      return sendJson(res, 200, { status: "ok" });
    }
    if (pathname === "/readyz") {
      const ready = publishedHandler("ready");
      if (!ready) return sendJson(res, 503, { status: "starting" });
      void ready(req, res);
      return;
    }
    if (refusedUndeclaredLength(req, res, pathname)) return;
    void handle(req, res);
  });
  // Longer than load balancers' idle timeouts (60 s is common): the balancer, not this server,
  // closes an idle connection first, so a request never lands on a socket being closed (a 502).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(port, host, () => {
    console.log(`Gatehouse ready on ${process.env.GATEHOUSE_URL} (${dev ? "development" : "production"}, ${Date.now() - started} ms)`);
  });

  const shutdown = (signal: string) => {
    console.log(`${signal}: shutting down`);
    let exiting = false;
    const exit = () => {
      if (exiting) return;
      exiting = true;
      void database.close().finally(() => process.exit(0));
    };
    // Requests under way finish (for up to ten seconds): a sign-in or a recovery mail is not cut off.
    server.close(exit);
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      exit();
    }, 10_000).unref();
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
