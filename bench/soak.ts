// Soak: mixed traffic against the production server for BENCH_SOAK_SECONDS (ten minutes by
// default): sign-in pages, failed and successful sign-ins (each audited), account pages, OAuth
// client-credentials grants and decision-point calls. Passes with zero errors and flat memory
// (the server's resident set in the last minute within 15% of the second minute's).
import { readFileSync } from "node:fs";
import { decisionPointClient, hasProductionBuild, startProductionServer } from "./server";
import { summarize, summaryRow, type Row } from "./stats";

type Kind = "sign-in page" | "failed sign-in" | "sign-in + account page" | "client credentials grant" | "decision point call";
// How often each kind comes up, out of 10.
const MIX: Kind[] = ["sign-in page", "sign-in page", "sign-in page", "failed sign-in", "failed sign-in", "sign-in + account page",
  "client credentials grant", "client credentials grant", "decision point call", "decision point call"];
const GENERIC_FAILURE = "That email and password do not match an active account.";

const rssMiB = (pid: number) => Number(/^VmRSS:\s*(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

export async function runSoakBenchmark(config: { seconds: number; concurrency: number }): Promise<Row[]> {
  if (!hasProductionBuild()) {
    console.log("[soak] no production build (.next/BUILD_ID): run `npm run build` first.");
    return [];
  }
  const { createUser } = await import("../lib/auth/users");
  const { SYSTEM_CONTEXT } = await import("../lib/audit/context");
  const user = { email: `soak-${Date.now()}@example.test`, password: "soak test passphrase" };
  const created = await createUser({ ...user, name: "Soak", roles: ["user"] }, SYSTEM_CONTEXT, null);

  const server = await startProductionServer({ GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1", GATEHOUSE_LOG_FILE: "off" });
  const { origin } = server;
  try {
    const { resource, grant } = await decisionPointClient(origin);
    const token = await grant();
    const question = JSON.stringify({
      principal: { type: "Gatehouse::User", id: created.id }, action: "view", resource: { type: "Gatehouse::Console", id: "users" },
      context: { ip: "198.51.100.7", risk: 0.1, authStrength: "password" },
      entities: [{ uid: { type: "Gatehouse::User", id: created.id }, attrs: { email: created.email }, parents: [{ type: "Gatehouse::Role", id: "user" }] }],
    });
    const actionId = signInActionId();
    let n = 0;

    const perform: Record<Kind, () => Promise<void>> = {
      "sign-in page": async () => expectStatus(await fetch(`${origin}/sign-in`), 200),
      "failed sign-in": async () => {
        const i = ++n;
        const text = await signIn(origin, actionId, `nobody-${i}@example.test`, "wrong password", `198.18.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`);
        if (!text.includes(GENERIC_FAILURE)) throw new Error("a failed sign-in did not get the failure message");
      },
      "sign-in + account page": async () => {
        const form = signInForm(user.email, user.password);
        const response = await fetch(`${origin}/sign-in`, { method: "POST", body: form, headers: actionHeaders(origin, actionId) });
        const text = await response.text();
        const cookie = response.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
        if (!text.includes('"redirectTo"') || !cookie) throw new Error("a sign-in with the right password failed");
        expectStatus(await fetch(`${origin}/account`, { headers: { cookie }, redirect: "manual" }), 200);
      },
      "client credentials grant": async () => void (await grant()),
      "decision point call": async () => {
        const response = await fetch(resource, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: question });
        const answer = (await response.json()) as { decision?: string };
        if (response.status !== 200 || answer.decision !== "deny") throw new Error(`answered ${response.status} ${answer.decision ?? ""}`);
      },
    };

    const latencies = new Map<Kind, number[]>(MIX.map((k) => [k, []]));
    const errors = new Map<string, number>();
    const rss: { at: number; mib: number }[] = [];
    const started = performance.now();
    const sampler = setInterval(() => rss.push({ at: (performance.now() - started) / 1000, mib: rssMiB(server.process.pid!) }), 5_000);
    let next = 0;
    await Promise.all(Array.from({ length: config.concurrency }, async () => {
      while (performance.now() - started < config.seconds * 1000) {
        const kind = MIX[next++ % MIX.length]!;
        const t0 = performance.now();
        try {
          await perform[kind]();
          latencies.get(kind)!.push(performance.now() - t0);
        } catch (error) {
          const key = `${kind}: ${error instanceof Error ? error.message : String(error)}`;
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
      }
    }));
    clearInterval(sampler);
    const wallMs = performance.now() - started;

    const rows: Row[] = [];
    for (const [kind, samples] of latencies) {
      const stats = summarize(samples);
      rows.push(summaryRow(stats, { section: "soak", name: kind, n: stats.n, throughput: (samples.length * 1000) / wallMs, unit: "/s", pass: null, note: "" }));
    }
    const all = summarize([...latencies.values()].flat());
    const early = median(rss.filter((s) => s.at >= 60 && s.at < 120).map((s) => s.mib)) || median(rss.slice(0, Math.max(1, rss.length / 4)).map((s) => s.mib));
    const late = median(rss.filter((s) => s.at >= config.seconds - 60).map((s) => s.mib));
    const growth = early ? (late - early) / early : 0;
    const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
    rows.push(summaryRow(all, {
      section: "soak", name: `all traffic, ${Math.round(wallMs / 1000)} s`, n: all.n, throughput: (all.n * 1000) / wallMs, unit: " req/s",
      target: "0 errors, flat memory (±15%)", pass: errorCount === 0 && Math.abs(growth) <= 0.15,
      note: `${config.concurrency} concurrent; ${errorCount} errors${errorCount ? ` (${[...errors].map(([k, v]) => `${v}× ${k}`).join("; ").slice(0, 300)})` : ""}; server RSS ${early.toFixed(0)} MiB in minute 2 → ${late.toFixed(0)} MiB in the last minute (${(growth * 100).toFixed(1)}%), peak ${Math.max(...rss.map((s) => s.mib)).toFixed(0)} MiB`,
    }));
    return rows;
  } finally {
    server.stop();
  }
}

function expectStatus(response: Response, status: number) {
  void response.body?.cancel();
  if (response.status !== status) throw new Error(`answered ${response.status}`);
}

function signInActionId(): string {
  const manifest = JSON.parse(readFileSync(".next/server/server-reference-manifest.json", "utf8")) as { node: Record<string, { exportedName: string }> };
  return Object.entries(manifest.node).find(([, a]) => a.exportedName === "signInAction")![0];
}

const actionHeaders = (origin: string, actionId: string, ip?: string): Record<string, string> => ({
  "Next-Action": actionId, Accept: "text/x-component", Origin: origin, ...(ip && { "X-Forwarded-For": ip }),
});

/** React's encoding of the sign-in form's [previous state, form data], the argument list last. */
function signInForm(email: string, password: string): FormData {
  const form = new FormData();
  form.append("_1_email", email);
  form.append("_1_password", password);
  form.append("0", JSON.stringify([{}, "$K1"]));
  return form;
}

async function signIn(origin: string, actionId: string, email: string, password: string, ip: string): Promise<string> {
  const response = await fetch(`${origin}/sign-in`, { method: "POST", body: signInForm(email, password), headers: actionHeaders(origin, actionId, ip) });
  if (response.status !== 200) throw new Error(`sign-in answered ${response.status}`);
  return response.text();
}
