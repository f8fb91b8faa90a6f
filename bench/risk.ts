// Risk engine: the assessment's latency in-process (goal p99 < 5 ms on PostgreSQL) and its share
// of a whole sign-in, then whole password sign-ins per second per core through the real pipeline
// (argon2id at 19 MiB, t=2; goal ≥ 30 per core). Users get a history first, so every signal runs
// against a real baseline; attempts come from addresses all over the shipped GeoIP database.
import { performance } from "node:perf_hooks";
import { summarize, summaryRow, type Row } from "./stats";

const PASSWORD = "bench passphrase 123";
// Allocated /8s on every continent, so most random addresses have a place.
const PREFIXES = [1, 8, 24, 41, 49, 58, 85, 88, 101, 133, 141, 151, 177, 186, 190, 196, 200, 203, 212, 217];

function randomIp(seed: number): string {
  const rand = (n: number) => Math.floor(Math.abs(Math.sin(seed * 9301 + n * 49297)) * 255);
  return `${PREFIXES[seed % PREFIXES.length]}.${rand(1)}.${rand(2)}.${1 + (rand(3) % 250)}`;
}

export async function runRiskBenchmarks(config: { users: number; assessments: number; signInSeconds: number; concurrency: number }): Promise<Row[]> {
  const { createUser } = await import("../lib/auth/users");
  const { signInWithPassword } = await import("../lib/auth/sign-in");
  const { assessSignIn } = await import("../lib/risk");
  const { SYSTEM_CONTEXT } = await import("../lib/audit/context");

  // Users with a history: five completed sign-ins each from two home addresses, plus some failures.
  console.log(`[risk] creating ${config.users} users with a sign-in history…`);
  const users: { id: string; email: string; home: string; token: string | null }[] = [];
  for (let i = 0; i < config.users; i++) {
    const user = await createUser({ email: `risk-bench-${i}-${Date.now()}@example.test`, name: "Bench", password: PASSWORD, roles: ["user"] }, SYSTEM_CONTEXT, null);
    users.push({ id: user.id, email: user.email, home: randomIp(i), token: null });
  }
  const day = 86_400_000;
  await Promise.all(users.map(async (u, i) => {
    for (let k = 5; k >= 1; k--) {
      const result = await signInWithPassword({ email: u.email, password: PASSWORD }, { ip: k % 2 ? u.home : randomIp(i + 1000), userAgent: "bench" }, u.token, new Date(Date.now() - k * day));
      if (result.ok) u.token = result.newDeviceToken ?? u.token;
    }
    await signInWithPassword({ email: u.email, password: "wrong password" }, { ip: randomIp(i + 2000), userAgent: "bench" }, null);
  }));

  // 1. The assessment alone, one at a time (latency), against varied places and devices.
  const latencies: number[] = [];
  for (let n = 0; n < config.assessments; n++) {
    const u = users[n % users.length]!;
    const t0 = performance.now();
    await assessSignIn({ userId: u.id, email: u.email, ip: n % 3 ? u.home : randomIp(n + 5000), deviceToken: n % 4 ? u.token : null });
    latencies.push(performance.now() - t0);
  }
  const assess = summarize(latencies);
  const rows: Row[] = [summaryRow(assess, {
    section: "risk", name: "assessment in-process (sequential)", n: assess.n, throughput: 1000 / assess.mean, unit: "/s",
    target: "p99 < 5 ms", pass: assess.p99 < 5, note: `${config.users} users with baselines; 2 queries in parallel (risk inputs in one statement, the device) + in-memory GeoIP`,
  })];

  // 2. Whole password sign-ins through the real pipeline, `concurrency` at a time.
  const signIns: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  let failures = 0;
  await Promise.all(Array.from({ length: config.concurrency }, async () => {
    while (performance.now() - started < config.signInSeconds * 1000) {
      const u = users[next++ % users.length]!;
      const t0 = performance.now();
      const result = await signInWithPassword({ email: u.email, password: PASSWORD }, { ip: u.home, userAgent: "bench" }, u.token);
      signIns.push(performance.now() - t0);
      if (!result.ok) failures++;
    }
  }));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const coresUsed = (cpu.user + cpu.system) / 1000 / wallMs;
  const perSecond = (signIns.length / wallMs) * 1000;
  const stats = summarize(signIns);
  rows.push(summaryRow(stats, {
    section: "risk", name: "password sign-ins, whole pipeline", n: stats.n, throughput: perSecond, unit: "/s",
    target: "≥ 30/s per core", pass: failures === 0 && perSecond / coresUsed >= 30,
    note: `used ${coresUsed.toFixed(2)} cores → ${Math.round(perSecond / coresUsed)}/s per core; the assessment is ${((assess.mean / stats.mean) * 100).toFixed(1)}% of a sign-in (${assess.mean.toFixed(2)} of ${stats.mean.toFixed(1)} ms mean); ${failures} refused; ${config.concurrency} concurrent`,
  }));
  return rows;
}
