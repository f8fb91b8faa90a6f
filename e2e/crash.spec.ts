import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";

// kill -9 in the middle of a load of sign-ins (each one audited), on PostgreSQL and on the embedded
// database: after a restart, every sign-in the server had acknowledged is still there (the failed
// ones in the audit trail, the successful ones as sessions that still work) and the chain verifies.

const ADMIN = { email: "crash-admin@example.test", password: "crash test admin passphrase" };
const PORT = 3301;
const base = `http://localhost:${PORT}`;
const GENERIC_FAILURE = "That email and password do not match an active account.";

function serverSecrets(): Record<string, string> {
  const out = execFileSync(process.execPath, ["--import", "tsx", "scripts/keys-generate.ts"], { encoding: "utf8" });
  return Object.fromEntries(out.trim().split("\n").map((line) => {
    const [, key, value] = /^(\w+)=(.*)$/.exec(line)!;
    return [key!, value!.replace(/^'(.*)'$/, "$1")];
  }));
}

function signInActionId(): string {
  const manifest = JSON.parse(readFileSync(".next/server/server-reference-manifest.json", "utf8")) as { node: Record<string, { exportedName: string; filename: string }> };
  return Object.entries(manifest.node).find(([, a]) => a.exportedName === "signInAction" && a.filename.includes("sign-in"))![0];
}

async function startServer(env: Record<string, string>): Promise<ChildProcess> {
  const server = spawn(process.execPath, ["--import", "tsx", "server.ts"], {
    env: {
      ...process.env, ...env, NODE_ENV: "production", PORT: String(PORT), GATEHOUSE_URL: base, GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1,::1",
      GATEHOUSE_ADMIN_EMAIL: ADMIN.email, GATEHOUSE_ADMIN_PASSWORD: ADMIN.password, GATEHOUSE_MFA_REQUIRED_ROLES: "", GATEHOUSE_LOG_FILE: "off",
    },
    stdio: "ignore",
  });
  for (let i = 0; i < 240; i++) {
    if ((await fetch(`${base}/sign-in`).catch(() => null))?.ok) return server;
    await new Promise((r) => setTimeout(r, 250));
  }
  server.kill("SIGKILL");
  throw new Error("the server did not start");
}

const stopped = (server: ChildProcess) => new Promise((resolve) => (server.exitCode !== null || server.signalCode !== null ? resolve(null) : server.once("exit", resolve)));

/** One sign-in through the sign-in form's server action; what the server acknowledged, if it answered. */
async function signIn(actionId: string, email: string, password: string, ip?: string) {
  const form = new FormData();
  form.append("_1_email", email);
  form.append("_1_password", password);
  // React's encoding of [previous state, form data]: the argument list last.
  form.append("0", JSON.stringify([{}, "$K1"]));
  const response = await fetch(`${base}/sign-in`, {
    method: "POST", body: form, redirect: "manual",
    headers: { "Next-Action": actionId, Accept: "text/x-component", Origin: base, ...(ip && { "X-Forwarded-For": ip }) },
  });
  const text = await response.text();
  const cookie = response.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  return { text, cookie };
}

/** Workers sign in (mostly failing, each failure from its own address and to its own unknown account) until the server dies. */
async function loadUntilKilled(server: ChildProcess, actionId: string, killAfterMs: number) {
  const acknowledged = { failures: [] as string[], sessions: [] as string[] };
  let n = 0;
  let dead = false;
  const worker = async () => {
    while (!dead) {
      const i = ++n;
      try {
        if (i % 4 === 0) {
          const { text, cookie } = await signIn(actionId, ADMIN.email, ADMIN.password);
          if (text.includes('"redirectTo"') && cookie) acknowledged.sessions.push(cookie);
        } else {
          const email = `crash-${process.pid}-${i}@example.test`;
          const { text } = await signIn(actionId, email, "wrong password", `198.19.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`);
          if (text.includes(GENERIC_FAILURE)) acknowledged.failures.push(email);
        }
      } catch {
        // The connection died with the server: not acknowledged.
      }
    }
  };
  const workers = Array.from({ length: 6 }, worker);
  await new Promise((r) => setTimeout(r, killAfterMs));
  server.kill("SIGKILL");
  await stopped(server);
  dead = true;
  await Promise.all(workers);
  return acknowledged;
}

function checkDatabase(env: Record<string, string>, failures: string[]) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "gatehouse-crash-")), "emails.json");
  writeFileSync(file, JSON.stringify(failures));
  const out = execFileSync(process.execPath, ["--import", "tsx", "--conditions=react-server", "e2e/support/crash-check.ts", file], {
    env: { ...process.env, ...env }, encoding: "utf8",
  });
  rmSync(path.dirname(file), { recursive: true, force: true });
  return JSON.parse(out.trim().split("\n").at(-1)!) as { missing: string[]; chain: { ok: boolean; events: number; problem: string | null } };
}

async function crashAndRecover(env: Record<string, string>) {
  const actionId = signInActionId();
  let server = await startServer(env);
  const acknowledged = await loadUntilKilled(server, actionId, 4_000);
  expect(acknowledged.failures.length, "failed sign-ins acknowledged before the kill").toBeGreaterThan(5);
  expect(acknowledged.sessions.length, "sign-ins acknowledged before the kill").toBeGreaterThan(0);

  server = await startServer(env);
  for (const cookie of acknowledged.sessions) {
    const account = await fetch(`${base}/account`, { headers: { Cookie: cookie }, redirect: "manual" });
    expect(account.status, "an acknowledged session works after the restart").toBe(200);
  }
  server.kill("SIGTERM");
  await stopped(server);

  const { missing, chain } = checkDatabase(env, acknowledged.failures);
  expect(missing, "acknowledged sign-in failures missing from the audit trail").toEqual([]);
  expect(chain).toMatchObject({ ok: true, problem: null });
  return { acknowledged: acknowledged.failures.length + acknowledged.sessions.length, events: chain.events };
}

test.describe.configure({ timeout: 180_000 });

test("kill -9 under load on PostgreSQL loses no acknowledged write, and the audit chain verifies", async () => {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const name = `gatehouse_crash_${Date.now()}`;
  execFileSync("psql", [adminUrl, "-qc", `CREATE DATABASE ${name}`]);
  try {
    const result = await crashAndRecover({ ...serverSecrets(), DATABASE_URL: `${adminUrl.slice(0, adminUrl.lastIndexOf("/"))}/${name}` });
    console.log(`crash on PostgreSQL: ${result.acknowledged} acknowledged sign-ins kept, ${result.events} audit events verified`);
  } finally {
    execFileSync("psql", [adminUrl, "-qc", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
  }
});

test("kill -9 under load on the embedded database loses no acknowledged write, and the audit chain verifies", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-crash-embedded-"));
  try {
    const result = await crashAndRecover({ GATEHOUSE_DATA_DIR: dataDir });
    console.log(`crash on the embedded database: ${result.acknowledged} acknowledged sign-ins kept, ${result.events} audit events verified`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
