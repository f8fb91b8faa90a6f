// The production server as a child process, for the benchmarks that go through HTTP (policy and
// soak), so its CPU time and memory are its own; and the decision-point client they both use.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";

export const hasProductionBuild = () => existsSync(".next/BUILD_ID");

export type RunningServer = { origin: string; process: ChildProcess; stop: () => void };

/** Starts server.ts on a free-ish port with `env` added, and waits until it serves pages. */
export async function startProductionServer(env: Record<string, string>, nodeOptions: string[] = []): Promise<RunningServer> {
  const port = 3900 + Math.floor(Math.random() * 90);
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...nodeOptions, "--conditions=react-server", "--import", "tsx", "server.ts"], {
    env: { ...process.env, NODE_ENV: "production", PORT: String(port), HOST: "127.0.0.1", GATEHOUSE_URL: origin, ...env },
    stdio: "ignore",
  });
  const server = { origin, process: child, stop: () => void child.kill("SIGTERM") };
  for (let i = 0; i < 120; i++) {
    if ((await fetch(`${origin}/sign-in`).catch(() => null))?.ok) return server;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  server.stop();
  throw new Error(`The server did not answer at ${origin}`);
}

/** A machine client allowed the decision point, and a way to get it a pdp-scoped access token. */
export async function decisionPointClient(origin: string) {
  const { createClient, clientInputSchema } = await import("../lib/oidc/clients");
  const { SYSTEM_CONTEXT } = await import("../lib/audit/context");
  const resource = `${origin}/api/v1/authorize`;
  const client = await createClient(clientInputSchema.parse({
    name: "Benchmark service", type: "confidential", grantTypes: ["client_credentials"], redirectUris: "", scopes: "pdp", resources: resource,
    accessTokenTtl: "3600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
  }), SYSTEM_CONTEXT);
  const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`;
  const grant = async () => {
    const response = await fetch(`${origin}/oidc/token`, {
      method: "POST", headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", scope: "pdp", resource }),
    });
    if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}`);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  return { resource, grant };
}
