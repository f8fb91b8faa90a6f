// Load generator for bench/oidc.ts, run as its own process so the server's CPU time can be
// measured apart from the client's. Reads its job as JSON from argv[2]; prints results as JSON.
const job = JSON.parse(process.argv[2]);
const basic = `Basic ${Buffer.from(`${encodeURIComponent(job.clientId)}:${encodeURIComponent(job.clientSecret)}`).toString("base64")}`;
const deadline = Date.now() + job.seconds * 1000;
const latencies = [];
let errors = 0;
let firstError = null;

async function grant(body) {
  const started = performance.now();
  const response = await fetch(job.tokenEndpoint, {
    method: "POST",
    headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body),
  });
  const json = await response.json();
  const ms = performance.now() - started;
  if (!response.ok) {
    errors++;
    firstError ??= json;
    return null;
  }
  latencies.push(ms);
  return json;
}

async function worker(index) {
  let refreshToken = job.refreshTokens?.[index];
  while (Date.now() < deadline) {
    if (job.mode === "client_credentials") {
      await grant({ grant_type: "client_credentials", scope: job.scope, resource: job.resource });
    } else {
      const tokens = await grant({ grant_type: "refresh_token", refresh_token: refreshToken });
      if (!tokens) return;
      refreshToken = tokens.refresh_token; // rotation: the next request must use the new one
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: job.concurrency }, (_, i) => worker(i)));
process.stdout.write(JSON.stringify({ latencies, errors, firstError, wallMs: performance.now() - started }));
