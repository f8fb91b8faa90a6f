import { execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { callAction, EXTRA_ADMIN, freshDatabase, serverSecrets, signInOver, startServer, stopped } from "./support/servers";

// kill -9 in the middle of a load of sign-ins (each one audited), on PostgreSQL and on the embedded
// database: after a restart, every sign-in the server had acknowledged is still there (the failed
// ones in the audit trail, the successful ones as sessions that still work) and the chain verifies.

const PORT = 3301;
const base = `http://localhost:${PORT}`;
const GENERIC_FAILURE = "That email and password do not match an active account.";

/** Workers sign in (mostly failing, each failure from its own address and to its own unknown account) until the server dies. */
async function loadUntilKilled(server: ChildProcess, killAfterMs: number) {
  const acknowledged = { failures: [] as string[], sessions: [] as string[] };
  let n = 0;
  let dead = false;
  const worker = async () => {
    while (!dead) {
      const i = ++n;
      try {
        if (i % 4 === 0) {
          const cookie = await signInOver(base, EXTRA_ADMIN.email, EXTRA_ADMIN.password);
          if (cookie) acknowledged.sessions.push(cookie);
        } else {
          const email = `crash-${process.pid}-${i}@example.test`;
          const { text } = await callAction(base, "signInAction", { email, password: "wrong password" }, { ip: `198.19.${Math.floor(i / 250) % 250}.${(i % 250) + 1}` });
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
  let server = await startServer(PORT, env);
  const acknowledged = await loadUntilKilled(server, 4_000);
  expect(acknowledged.failures.length, "failed sign-ins acknowledged before the kill").toBeGreaterThan(5);
  expect(acknowledged.sessions.length, "sign-ins acknowledged before the kill").toBeGreaterThan(0);

  server = await startServer(PORT, env);
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
  const database = freshDatabase("gatehouse_crash");
  try {
    const result = await crashAndRecover({ ...serverSecrets(), DATABASE_URL: database.url });
    console.log(`crash on PostgreSQL: ${result.acknowledged} acknowledged sign-ins kept, ${result.events} audit events verified`);
  } finally {
    database.drop();
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
