// The decision point: decisions per second and p50/p99 in-process (Cedar on a preparsed policy
// set) and through POST /api/v1/authorize on the production server (needs `npm run build` first):
// closed loops (single and batched, for decisions per server core) and open loops at a fixed rate
// (for the latency a service sees). Goal: ≥ 5,000 decisions/s per core through the API with p99
// under 2 ms. The server runs as a child process so its CPU time is measured from /proc, apart
// from the load generator's (bench/pdp-load.mjs).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { decisionPointClient, hasProductionBuild, startProductionServer } from "./server";
import { summarize, summaryRow, type Row } from "./stats";

const run = promisify(execFile);
const TICKS_PER_SECOND = 100;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
}

export async function runPolicyBenchmarks(config: { decisions: number; seconds: number; concurrency: number; rate: number }): Promise<Row[]> {
  const { authorize, consoleRequest, DEFAULT_POLICIES, publishPolicies, POLICY_TEMPLATES } = await import("../lib/policy");
  const { createUser } = await import("../lib/auth/users");
  const { SYSTEM_CONTEXT } = await import("../lib/audit/context");

  // A realistic set: the built-in roles plus every template (time, risk, IP, country and strength
  // conditions), asked from a public address in one of the template's countries (Berlin).
  const admin = await createUser({ email: `pdp-bench-${Date.now()}@example.test`, name: "Bench", password: "bench passphrase 123", roles: ["admin"] }, SYSTEM_CONTEXT, null);
  const subject = { userId: admin.id, email: admin.email, roles: admin.roles, groups: [], ip: "85.214.132.117", risk: 0.2, authStrength: "mfa" as const, mfaFresh: true, deviceTrusted: false };
  const published = await publishPolicies([DEFAULT_POLICIES, ...POLICY_TEMPLATES.map((t) => t.text)].join("\n\n"), "benchmark set", subject, async () => [subject], SYSTEM_CONTEXT);
  if (!published.ok) throw new Error(published.message);

  const rows: Row[] = [];
  const sections = ["users", "audit", "risk", "policies"] as const;
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < config.decisions; i++) {
    const t0 = performance.now();
    await authorize(consoleRequest(subject, sections[i % sections.length]!, i % 2 ? "view" : "manage"));
    latencies.push(performance.now() - t0);
  }
  const inProcess = summarize(latencies);
  rows.push(summaryRow(inProcess, {
    section: "policy", name: "decisions in-process (sequential)", n: inProcess.n, throughput: (config.decisions / (performance.now() - started)) * 1000, unit: "/s",
    pass: null, note: `${POLICY_TEMPLATES.length + 5} policies; statefulIsAuthorized on the preparsed set in force`,
  }));

  if (!hasProductionBuild()) {
    console.log("[policy] no production build (.next/BUILD_ID): run `npm run build` to measure the API.");
    return rows;
  }
  const profile = process.env.BENCH_PDP_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PDP_PROFILE}`] : [];
  const server = await startProductionServer({ GATEHOUSE_PDP_AUDIT_SAMPLE: "0" }, profile);
  try {
    const { resource, grant } = await decisionPointClient(server.origin);
    const token = await grant();
    const question = {
      principal: { type: "Gatehouse::User", id: admin.id }, action: "manage", resource: { type: "Gatehouse::Console", id: "users" },
      context: { ip: "85.214.132.117", risk: 0.2, authStrength: "mfa" },
      entities: [{ uid: { type: "Gatehouse::User", id: admin.id }, attrs: { email: admin.email }, parents: [{ type: "Gatehouse::Role", id: "admin" }] }],
    };
    const batch = { requests: Array.from({ length: 100 }, () => question) };
    type Measured = { perCore: number; p99: number; decisionsPerSecond: number };
    const cases = [
      // Closed loops: how many decisions one server core can give (latency here is queueing).
      { name: `API, one decision per request, ${config.concurrency} in flight`, body: question, perCall: 1, load: { concurrency: config.concurrency }, target: "≥ 5,000 decisions/s per core", meets: (m: Measured) => m.perCore >= 5000 },
      { name: `API, batches of 100, ${config.concurrency} in flight`, body: batch, perCall: 100, load: { concurrency: config.concurrency }, target: "≥ 5,000 decisions/s per core", meets: (m: Measured) => m.perCore >= 5000 },
      // Open loops: the latency a service sees at the target rate, and at a rate well within reach.
      { name: `API, one decision per request at ${config.rate}/s`, body: question, perCall: 1, load: { rate: config.rate }, target: "p99 < 2 ms at this rate, ≥ 5,000 decisions/s per core", meets: (m: Measured) => m.p99 < 2 && m.decisionsPerSecond >= 0.98 * config.rate && m.perCore >= 5000 },
      { name: "API, one decision per request at 1000/s", body: question, perCall: 1, load: { rate: 1000 }, target: "p99 < 2 ms at this rate", meets: (m: Measured) => m.p99 < 2 && m.decisionsPerSecond >= 0.98 * 1000 },
    ];
    for (const c of cases) {
      const cpuBefore = cpuSeconds(server.process.pid!);
      const job = { url: resource, token, body: c.body, seconds: config.seconds, ...c.load };
      const { stdout } = await run(process.execPath, [new URL("./pdp-load.mjs", import.meta.url).pathname, JSON.stringify(job)], { maxBuffer: 64 * 1024 * 1024 });
      const cpu = cpuSeconds(server.process.pid!) - cpuBefore;
      const result = JSON.parse(stdout) as { latencies: number[]; errors: number; firstError: unknown; wallMs: number };
      const stats = summarize(result.latencies);
      const decisionsPerSecond = (result.latencies.length * c.perCall * 1000) / result.wallMs;
      const cores = cpu / (result.wallMs / 1000);
      const perCore = decisionsPerSecond / cores;
      rows.push(summaryRow(stats, {
        section: "policy", name: c.name, n: result.latencies.length, throughput: decisionsPerSecond, unit: " decisions/s",
        target: c.target, pass: result.errors === 0 && c.meets({ perCore, p99: stats.p99, decisionsPerSecond }),
        note: `server used ${cores.toFixed(2)} cores → ${Math.round(perCore)} decisions/s per core; ${"rate" in c.load ? "open loop, latency from when each request was due" : "closed loop"}; ${result.errors} errors${result.firstError ? ` (${JSON.stringify(result.firstError)})` : ""}`,
      }));
    }
  } finally {
    server.stop();
  }
  return rows;
}
