import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

// Extra Gatehouse servers for the crash and two-instance journeys: the production build, started
// as `node server.ts` (so a kill reaches the server itself), and server actions called over HTTP
// the way React calls them.

export const EXTRA_ADMIN = { email: "ops-admin@example.test", password: "ops admin passphrase for e2e" };

export function serverSecrets(): Record<string, string> {
  const out = execFileSync(process.execPath, ["--import", "tsx", "scripts/keys-generate.ts"], { encoding: "utf8" });
  return Object.fromEntries(out.trim().split("\n").map((line) => {
    const [, key, value] = /^(\w+)=(.*)$/.exec(line)!;
    return [key!, value!.replace(/^'(.*)'$/, "$1")];
  }));
}

/** A fresh PostgreSQL database; returns its URL and a function that drops it. */
export function freshDatabase(prefix: string): { url: string; drop: () => void } {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const name = `${prefix}_${Date.now()}`;
  execFileSync("psql", [adminUrl, "-qc", `CREATE DATABASE ${name}`]);
  return { url: `${adminUrl.slice(0, adminUrl.lastIndexOf("/"))}/${name}`, drop: () => execFileSync("psql", [adminUrl, "-qc", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]) };
}

export async function startServer(port: number, env: Record<string, string>): Promise<ChildProcess> {
  const base = `http://localhost:${port}`;
  const server = spawn(process.execPath, ["--import", "tsx", "server.ts"], {
    env: {
      ...process.env, ...env, NODE_ENV: "production", PORT: String(port), GATEHOUSE_URL: base, GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1,::1",
      GATEHOUSE_ADMIN_EMAIL: EXTRA_ADMIN.email, GATEHOUSE_ADMIN_PASSWORD: EXTRA_ADMIN.password, GATEHOUSE_MFA_REQUIRED_ROLES: "", GATEHOUSE_LOG_FILE: "off",
    },
    stdio: "ignore",
  });
  for (let i = 0; i < 240; i++) {
    if ((await fetch(`${base}/sign-in`).catch(() => null))?.ok) return server;
    await new Promise((r) => setTimeout(r, 250));
  }
  server.kill("SIGKILL");
  throw new Error(`the server on port ${port} did not start`);
}

export const stopped = (server: ChildProcess) =>
  new Promise((resolve) => (server.exitCode !== null || server.signalCode !== null ? resolve(null) : server.once("exit", resolve)));

const manifest = () =>
  JSON.parse(readFileSync(".next/server/server-reference-manifest.json", "utf8")) as { node: Record<string, { exportedName: string; filename: string; workers: Record<string, unknown> }> };

/** React's encoding of a form action's [previous state, form data]: the argument list comes last, once the parts it names have been sent. */
export function actionReply(fields: Record<string, string | string[]>): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) for (const v of [value].flat()) form.append(`_1_${key}`, v);
  form.append("0", JSON.stringify([{}, "$K1"]));
  return form;
}

/** Calls a server action by its exported name with form fields, as React does. */
export async function callAction(base: string, name: string, fields: Record<string, string | string[]>, options: { cookie?: string; ip?: string } = {}) {
  const [id, entry] = Object.entries(manifest().node).find(([, a]) => a.exportedName === name)!;
  const page = Object.keys(entry.workers)[0]!.replace(/^app/, "").replace(/\/page$/, "").replace(/\/\([^)]+\)/g, "") || "/";
  const form = actionReply(fields);
  const response = await fetch(`${base}${page.replace(/\[[^\]]+\]/g, "x")}`, {
    method: "POST", body: form, redirect: "manual",
    headers: { "Next-Action": id, Accept: "text/x-component", Origin: base, ...(options.cookie && { Cookie: options.cookie }), ...(options.ip && { "X-Forwarded-For": options.ip }) },
  });
  return { status: response.status, text: await response.text(), cookie: response.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ") };
}

/** Signs in through the sign-in form's action; the session cookie, or null. */
export async function signInOver(base: string, email: string, password: string, ip?: string): Promise<string | null> {
  const { text, cookie } = await callAction(base, "signInAction", { email, password }, { ip });
  return text.includes('"redirectTo"') && cookie ? cookie : null;
}
