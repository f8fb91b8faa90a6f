// OAuth token endpoint throughput: client-credentials grants and (rotating) refresh grants per
// second against the real provider on PostgreSQL, with p50/p99 and the CPU the server used.
// The load comes from a separate process (oidc-load.mjs) so the server's CPU time is its own.
// Every statement this process sends to PostgreSQL is counted (by statement kind and table), so
// the table says how many queries one grant costs.
import { execFile } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import pg from "pg";
import { summarize, summaryRow, type Row } from "./stats";

const run = promisify(execFile);

/**
 * Counts the statements sent through node-postgres (Prisma's pg adapter uses the same Client
 * class), by kind ("SELECT oidc_models", "BEGIN", …), until the returned function is called.
 */
function countStatements(): { counts: Map<string, number>; stop: () => void } {
  const counts = new Map<string, number>();
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === "string" ? first : ((first as { text?: string } | undefined)?.text ?? "");
    const verb = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? "?";
    const table = /\b(?:FROM|INTO|UPDATE)\s+(?:"?\w+"?\.)?"?(\w+)"?/i.exec(text)?.[1];
    const key = table ? `${verb} ${table}` : verb;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return original.apply(this, args);
  };
  return { counts, stop: () => void (proto.query = original) };
}

type LoadResult = { latencies: number[]; errors: number; firstError: unknown; wallMs: number };

export async function runOidcBenchmarks(config: { seconds: number; concurrency: number }): Promise<Row[]> {
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  process.env.GATEHOUSE_URL = `http://127.0.0.1:${port}`;

  const { getProvider } = await import("../lib/oidc/provider");
  const { createClient, clientInputSchema } = await import("../lib/oidc/clients");
  const { createUser } = await import("../lib/auth/users");
  const { SYSTEM_CONTEXT } = await import("../lib/audit/context");
  const provider = await getProvider();
  handle = provider.callback();

  const resource = "https://api.bench.test";
  const machine = await createClient(clientInputSchema.parse({
    name: "Bench machine", type: "confidential", grantTypes: ["client_credentials"], redirectUris: "", scopes: "api:read",
    resources: resource, accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
  }), SYSTEM_CONTEXT);
  const web = await createClient(clientInputSchema.parse({
    name: "Bench web", type: "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: "https://rp.bench.test/cb",
    scopes: "openid offline_access", resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
  }), SYSTEM_CONTEXT);
  const user = await createUser({ email: `bench-${Date.now()}@example.test`, name: "Bench User", password: "bench passphrase 123", roles: ["user"] }, SYSTEM_CONTEXT, null);

  // One refresh-token chain per concurrent worker, issued the way the code grant would.
  const webClient = await provider.Client.find(web.clientId);
  const refreshTokens: string[] = [];
  for (let i = 0; i < config.concurrency; i++) {
    const grant = new provider.Grant({ accountId: user.id, clientId: web.clientId });
    grant.addOIDCScope("openid offline_access");
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      accountId: user.id, client: webClient!, grantId, scope: "openid offline_access", gty: "authorization_code",
      rotations: 0, expiresWithSession: false, authTime: Math.floor(Date.now() / 1000),
    });
    refreshTokens.push(await token.save());
  }

  const tokenEndpoint = `${process.env.GATEHOUSE_URL}/oidc/token`;
  const rows: Row[] = [];
  const cases = [
    { name: "client credentials grants", mode: "client_credentials", client: machine, target: 1500 },
    { name: "refresh grants (rotating)", mode: "refresh_token", client: web, target: 1200 },
  ] as const;
  for (const c of cases) {
    const job = { mode: c.mode, tokenEndpoint, clientId: c.client.clientId, clientSecret: c.client.clientSecret, scope: "api:read", resource, refreshTokens, seconds: config.seconds, concurrency: config.concurrency };
    const counter = countStatements();
    const cpuBefore = process.cpuUsage();
    const { stdout } = await run(process.execPath, [new URL("./oidc-load.mjs", import.meta.url).pathname, JSON.stringify(job)], { maxBuffer: 256 * 1024 * 1024 });
    const cpu = process.cpuUsage(cpuBefore);
    // Let the audit events of the last grants commit before counting stops.
    await new Promise((resolve) => setTimeout(resolve, 200));
    counter.stop();
    const result = JSON.parse(stdout) as LoadResult;
    const stats = summarize(result.latencies);
    const perSecond = (result.latencies.length / result.wallMs) * 1000;
    const coresUsed = (cpu.user + cpu.system) / 1000 / result.wallMs;
    const perCore = perSecond / coresUsed;
    const grants = result.latencies.length + result.errors;
    const perGrant = [...counter.counts].sort((a, b) => b[1] - a[1]).map(([kind, n]) => `${kind} ${(n / grants).toFixed(2)}`);
    const statementsPerGrant = [...counter.counts.values()].reduce((a, b) => a + b, 0) / grants;
    console.log(`[oidc] ${c.name}: ${statementsPerGrant.toFixed(2)} statements per grant — ${perGrant.join(", ")}`);
    rows.push(summaryRow(stats, {
      section: "oidc", name: c.name, n: result.latencies.length, throughput: perSecond, unit: "/s",
      target: `≥ ${c.target}/s per server core`, pass: result.errors === 0 && perCore >= c.target,
      note: `server used ${coresUsed.toFixed(2)} cores → ${Math.round(perCore)}/s per core; ${statementsPerGrant.toFixed(1)} SQL statements per grant; ${result.errors} errors${result.firstError ? ` (${JSON.stringify(result.firstError)})` : ""}; ${config.concurrency} concurrent`,
    }));
  }
  server.close();

  return rows;
}
