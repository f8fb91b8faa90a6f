// Load generator for bench/policy.ts's API measurement, run as its own process so the server's
// CPU time is its own. Reads its job as JSON from argv[2]; prints results as JSON.
//
// Two shapes of load, on keep-alive node:http connections (lighter than fetch, so the client
// steals less of the machine from the server):
// - closed loop (job.concurrency): that many requests in flight, each sent when one returns;
// - open loop (job.rate): requests sent on a fixed schedule whatever the answers, and each
//   latency counted from the moment its request was due, so a stalled server cannot hide its
//   queue (no "coordinated omission").
import http from "node:http";

const job = JSON.parse(process.argv[2]);
const url = new URL(job.url);
const body = Buffer.from(JSON.stringify(job.body));
const agent = new http.Agent({ keepAlive: true, maxSockets: job.rate ? 256 : job.concurrency });
const headers = { authorization: `Bearer ${job.token}`, "content-type": "application/json", "content-length": body.length };
const latencies = [];
let errors = 0;
let firstError = null;

function send() {
  return new Promise((resolve) => {
    const request = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers, agent }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => {
        if (response.statusCode !== 200) {
          errors++;
          firstError ??= { status: response.statusCode, body: Buffer.concat(chunks).toString().slice(0, 300) };
          resolve(false);
        } else resolve(true);
      });
    });
    request.on("error", (error) => {
      errors++;
      firstError ??= { error: error.message };
      resolve(false);
    });
    request.end(body);
  });
}

async function closedLoop(deadline) {
  async function worker() {
    while (performance.now() < deadline) {
      const started = performance.now();
      if (await send()) latencies.push(performance.now() - started);
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, () => worker()));
}

async function openLoop(started, deadline) {
  const interval = 1000 / job.rate;
  const pending = [];
  let sent = 0;
  while (performance.now() < deadline) {
    // Send every request that is due by now, then yield to the event loop for the answers.
    const due = Math.floor((performance.now() - started) / interval);
    for (; sent < due; sent++) {
      const dueAt = started + sent * interval;
      pending.push(send().then((ok) => ok && latencies.push(performance.now() - dueAt)));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(pending);
}

const started = performance.now();
const deadline = started + job.seconds * 1000;
await (job.rate ? openLoop(started, deadline) : closedLoop(deadline));
agent.destroy();
process.stdout.write(JSON.stringify({ latencies, errors, firstError, wallMs: performance.now() - started }));
