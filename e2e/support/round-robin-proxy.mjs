// A small reverse proxy for E2E_INSTANCES=2 (scripts/e2e-server.sh): each request goes to the next
// instance in turn, with the caller's address appended to X-Forwarded-For, as a load balancer would.
// Usage: node round-robin-proxy.mjs <listen port> <upstream port>...
import http from "node:http";

const [port, ...upstreams] = process.argv.slice(2).map(Number);
let next = 0;

// Hop-by-hop headers belong to one connection (RFC 9110 §7.6.1), so a proxy does not pass them on. The
// instances' "Keep-Alive: timeout=65" passed through told clients to keep idle sockets far longer
// than this proxy's own 5 s: a client reusing one just as the proxy closed it got ECONNRESET.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);
const endToEnd = (rawHeaders) => rawHeaders.flatMap((value, i) => (i % 2 === 0 && !HOP_BY_HOP.has(value.toLowerCase()) ? [value, rawHeaders[i + 1]] : []));
const requestHeaders = (req, forwarded) => {
  const headers = { ...req.headers, "x-forwarded-for": forwarded };
  for (const name of HOP_BY_HOP) delete headers[name];
  return headers;
};

http
  .createServer((req, res) => {
    const target = upstreams[next++ % upstreams.length];
    const forwarded = [req.headers["x-forwarded-for"], req.socket.remoteAddress].filter(Boolean).join(", ");
    const upstream = http.request(
      { host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: requestHeaders(req, forwarded) },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.rawHeaders));
        answer.pipe(res);
      },
    );
    upstream.on("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  })
  .listen(port, () => console.log(`Round-robin proxy on ${port} → ${upstreams.join(", ")}`));
