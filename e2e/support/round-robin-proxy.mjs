// A small reverse proxy for E2E_INSTANCES=2 (scripts/e2e-server.sh): each request goes to the next
// instance in turn, with the caller's address appended to X-Forwarded-For, as a load balancer would.
// Usage: node round-robin-proxy.mjs <listen port> <upstream port>...
import http from "node:http";

const [port, ...upstreams] = process.argv.slice(2).map(Number);
let next = 0;

http
  .createServer((req, res) => {
    const target = upstreams[next++ % upstreams.length];
    const forwarded = [req.headers["x-forwarded-for"], req.socket.remoteAddress].filter(Boolean).join(", ");
    const upstream = http.request(
      { host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: { ...req.headers, "x-forwarded-for": forwarded } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  })
  .listen(port, () => console.log(`Round-robin proxy on ${port} → ${upstreams.join(", ")}`));
