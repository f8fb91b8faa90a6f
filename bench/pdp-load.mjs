// Load generator for bench/policy.ts's API measurement, run as its own process so the server's
// CPU time is its own. Reads its job as JSON from argv[2]; prints results as JSON.
const job = JSON.parse(process.argv[2]);
const deadline = Date.now() + job.seconds * 1000;
const body = JSON.stringify(job.body);
const latencies = [];
let errors = 0;
let firstError = null;

async function worker() {
  while (Date.now() < deadline) {
    const started = performance.now();
    const response = await fetch(job.url, { method: "POST", headers: { authorization: `Bearer ${job.token}`, "content-type": "application/json" }, body });
    const json = await response.json();
    if (!response.ok) {
      errors++;
      firstError ??= json;
      continue;
    }
    latencies.push(performance.now() - started);
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: job.concurrency }, () => worker()));
process.stdout.write(JSON.stringify({ latencies, errors, firstError, wallMs: performance.now() - started }));
