import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { db } from "../db/client";
import { publishHandler } from "../http/node-handlers";
import { sendJson, sendProblem } from "../http/problem";
import { getProvider } from "../oidc";

// Readiness for load balancers and orchestrators: with many instances on one PostgreSQL, an
// instance that cannot reach the database (or has no working OpenID provider) should be taken out
// of rotation rather than answer sign-ins with errors. Liveness (/healthz, "the process answers")
// needs nothing from here: server.ts answers it itself. The answer names each check and its
// outcome only: no error text, which could carry a host name or a connection detail.

const READINESS_TIMEOUT_MS = 2_000;
type CheckOutcome = "ok" | "failed" | "timed out";
export type Readiness = { ready: boolean; checks: Record<string, CheckOutcome> };
type Check = () => Promise<unknown>;

const DEFAULT_CHECKS: Record<string, Check> = {
  database: () => db().$queryRaw`SELECT 1`,
  oidc: () => getProvider(),
};

async function outcomeOf(check: Check, timeoutMs: number): Promise<CheckOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<CheckOutcome>((resolve) => (timer = setTimeout(() => resolve("timed out"), timeoutMs)));
  const done = check().then(() => "ok" as const, () => "failed" as const);
  try {
    return await Promise.race([done, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check at once, each within `timeoutMs`. */
export async function readiness(checks: Record<string, Check> = DEFAULT_CHECKS, timeoutMs = READINESS_TIMEOUT_MS): Promise<Readiness> {
  const entries = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await outcomeOf(check, timeoutMs)] as const));
  return { ready: entries.every(([, outcome]) => outcome === "ok"), checks: Object.fromEntries(entries) };
}

// The probe is public: however often it is asked, one check runs at a time and its answer serves
// for a second, so probes cannot take the database's connections from sign-ins.
const ANSWER_FOR_MS = 1_000;
type SharedCheck = { at: number; result: Promise<Readiness>; settled: boolean };

/** readiness(), shared: a call within a second of the last check, or while it runs, gets its answer. */
export function sharedReadiness(checks: Record<string, Check> = DEFAULT_CHECKS): (now?: number) => Promise<Readiness> {
  let last: SharedCheck | null = null;
  return (now = Date.now()) => {
    if (last && (!last.settled || now - last.at < ANSWER_FOR_MS)) return last.result;
    const check: SharedCheck = { at: now, result: readiness(checks), settled: false };
    void check.result.finally(() => (check.settled = true));
    last = check;
    return check.result;
  };
}

const probe = sharedReadiness();

/** GET /readyz: 200 when ready, 503 otherwise, with each check's outcome. */
export async function handleReadiness(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") return sendProblem(res, 405, "invalid_request", "Use GET.", { allow: "GET, HEAD" });
  const { ready, checks } = await probe();
  sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "unavailable", checks });
}

/** Called once at server start (instrumentation.ts): hands /readyz to server.ts. */
export function startReadinessEndpoint(): void {
  publishHandler("ready", handleReadiness);
}
