import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleReadiness, readiness, sharedReadiness } from "@/lib/health";
import { pgPool } from "@/lib/db/client";
import { getProvider } from "@/lib/oidc";

describe("readiness for load balancers", () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // The provider up, as in a server that has started (building it the first time, keys read
    // from the database, can outlast the probe's timeout on a busy machine: not ready yet, rightly).
    await getProvider();
    server = createServer((req, res) => void handleReadiness(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("is ready when PostgreSQL answers and the OpenID provider is up, and says so without caching", async () => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({ status: "ready", checks: { database: "ok", oidc: "ok" } });
    expect((await fetch(url, { method: "HEAD" })).status).toBe(200);
  });

  it("answers other methods with 405", async () => {
    const response = await fetch(url, { method: "POST", body: "x" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });

  it("is not ready when a check fails or hangs, and names which, without the error's text", async () => {
    const result = await readiness(
      {
        database: () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.5:5432 password=secret")),
        oidc: () => new Promise(() => undefined),
        other: () => Promise.resolve(),
      },
      50,
    );
    expect(result).toEqual({ ready: false, checks: { database: "failed", oidc: "timed out", other: "ok" } });
  });

  it("runs one check at a time however many probes ask, and answers from it for a second", async () => {
    let runs = 0;
    const probe = sharedReadiness({ database: async () => void runs++ });
    const t = Date.now();
    const answers = await Promise.all(Array.from({ length: 20 }, () => probe(t)));
    expect(answers.every((a) => a.ready)).toBe(true);
    expect(runs).toBe(1);
    await probe(t + 500);
    expect(runs).toBe(1);
    await probe(t + 1_000);
    expect(runs).toBe(2);
  });
});

describe("the connection pool", () => {
  it("survives a connection ended by PostgreSQL while checked out: its holder's next statement fails, the next caller gets a fresh one", async () => {
    const held = await pgPool().connect();
    const { rows } = await held.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    // As an administrator or a restart would: the server says so on a connection nobody is using at that moment.
    await pgPool().query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(held.query("SELECT 1")).rejects.toThrow();
    held.release();
    const { rows: after } = await pgPool().query<{ ok: number }>("SELECT 1 AS ok");
    expect(after[0]!.ok).toBe(1);
  });
});
