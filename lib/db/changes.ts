import "server-only";
import pg from "pg";
import { z } from "zod";
import { readConfig } from "../config";
import { pgPool } from "./client";
import { onEmbeddedDatabase } from "./embedded-flag";

// Changes that other instances hold in a cache (a client disabled or deleted, a signing key
// retired) are announced with PostgreSQL's NOTIFY; every instance LISTENs on a connection of its
// own and drops what it cached, so a disabled client is refused everywhere at once rather than
// when a cache entry runs out. The caches keep their short lifetimes as the backstop: a
// notification sent while an instance's listener reconnects is not redelivered, so on
// reconnecting a listener drops everything it cached.

const CHANNEL = "gatehouse_changes";
// Reconnecting waits 1 s, doubling up to 30 s while the database stays away.
const RECONNECT_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
// An idle connection a firewall dropped without a word raises nothing: a query every 30 s (given
// 5 s) finds out.
const HEARTBEAT_MS = 30_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;

export const CHANGE_TOPICS = ["oauth_client", "signing_keys"] as const;
export type ChangeTopic = (typeof CHANGE_TOPICS)[number];
/** Called with the id that changed, or null for "anything may have changed". */
type Listener = (id: string | null) => void;

const announcement = z.object({ topic: z.enum(CHANGE_TOPICS), id: z.string().max(200).nullable() });

type ListenerState = { client: pg.Client | null; stopped: boolean; retry: NodeJS.Timeout | null; heartbeat: NodeJS.Timeout | null; failures: number };
// On globalThis: Next.js may load this module once per server entry (the listener starts from
// instrumentation.ts, caches register from the provider and the server actions), and a change
// delivered by one copy must reach the caches registered with every other.
const globalForChanges = globalThis as unknown as {
  gatehouseChanges?: ListenerState;
  gatehouseChangeListeners?: Map<ChangeTopic, Set<Listener>>;
  gatehouseChangesSeen?: Map<ChangeTopic, number>;
};
const listeners = (globalForChanges.gatehouseChangeListeners ??= new Map());
const seen = (globalForChanges.gatehouseChangesSeen ??= new Map());

/**
 * How many changes of `topic` this instance has seen. A cache compares it before and after a
 * read: if it moved, a change arrived meanwhile and the read may hold what was there before it,
 * so it is not kept.
 */
export function changesSeen(topic: ChangeTopic): number {
  return seen.get(topic) ?? 0;
}

/** Runs `listener` whenever `topic` changes, on this instance or another. */
export function onChange(topic: ChangeTopic, listener: Listener): void {
  const set = listeners.get(topic) ?? new Set();
  set.add(listener);
  listeners.set(topic, set);
}

function deliver(topic: ChangeTopic, id: string | null) {
  seen.set(topic, changesSeen(topic) + 1);
  for (const listener of listeners.get(topic) ?? []) listener(id);
}

/**
 * Tells every instance that `topic` (`id` within it) changed: this one at once, the others when
 * PostgreSQL delivers the notification. A notification that cannot be sent is logged; the other
 * instances' caches then run out on their own.
 */
export async function announceChange(topic: ChangeTopic, id: string | null = null): Promise<void> {
  deliver(topic, id);
  try {
    await pgPool().query("SELECT pg_notify($1, $2)", [CHANNEL, JSON.stringify({ topic, id })]);
  } catch (error) {
    console.error(`[changes] could not announce a change of ${topic}:`, error instanceof Error ? error.message : error);
  }
}

/**
 * Listens for announcements on a connection of its own, reconnecting when it is lost. Not on the
 * embedded database: one instance anyway, and a second connection would wait for the first forever.
 */
export function startChangeListener(): void {
  const { DATABASE_URL } = readConfig();
  if (!DATABASE_URL || onEmbeddedDatabase() || globalForChanges.gatehouseChanges) return;
  const state: ListenerState = { client: null, stopped: false, retry: null, heartbeat: null, failures: 0 };
  globalForChanges.gatehouseChanges = state;
  void connect(state, DATABASE_URL, false);
}

async function connect(state: ListenerState, connectionString: string, reconnecting: boolean): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000, keepAlive: true, query_timeout: HEARTBEAT_TIMEOUT_MS });
  const lost = (error: Error) => {
    if (state.client !== client) return;
    state.client = null;
    if (state.heartbeat) clearInterval(state.heartbeat);
    client.removeAllListeners();
    client.on("error", () => undefined); // a late socket error of a client given up
    void client.end().catch(() => undefined);
    if (state.stopped) return;
    // One line per outage, not one per retry.
    if (state.failures++ === 0) console.error("[changes] listener connection lost, reconnecting:", error.message);
    state.retry = setTimeout(() => void connect(state, connectionString, true), Math.min(RECONNECT_MS * 2 ** (state.failures - 1), RECONNECT_MAX_MS));
    state.retry.unref();
  };
  state.client = client;
  client.on("error", lost);
  client.on("end", () => lost(new Error("connection ended")));
  client.on("notification", ({ channel, payload }) => {
    if (channel !== CHANNEL) return;
    const parsed = announcement.safeParse(safeJson(payload));
    if (parsed.success) deliver(parsed.data.topic, parsed.data.id);
  });
  try {
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
  } catch (error) {
    return lost(error instanceof Error ? error : new Error(String(error)));
  }
  if (state.failures > 0) console.error("[changes] listener reconnected");
  state.failures = 0;
  state.heartbeat = setInterval(() => void client.query("SELECT 1").catch((error: Error) => lost(error)), HEARTBEAT_MS);
  state.heartbeat.unref();
  // Whatever was announced while no one listened here is unknown: drop everything.
  if (reconnecting) for (const topic of CHANGE_TOPICS) deliver(topic, null);
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? "");
  } catch {
    return null;
  }
}

/** Stops listening (shutdown, tests). */
export async function stopChangeListener(): Promise<void> {
  const state = globalForChanges.gatehouseChanges;
  if (!state) return;
  globalForChanges.gatehouseChanges = undefined;
  state.stopped = true;
  if (state.retry) clearTimeout(state.retry);
  if (state.heartbeat) clearInterval(state.heartbeat);
  const client = state.client;
  state.client = null;
  await client?.end().catch(() => undefined);
}
