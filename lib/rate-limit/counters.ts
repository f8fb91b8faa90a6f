import "server-only";
import ipaddr from "ipaddr.js";
import { db, type Prisma } from "../db/client";
import { everyHour } from "../util/hourly";

// Failure counters with an optional lock, shared by every instance through PostgreSQL
// (rate_limit_counters): fixed windows for request limits (bumpCounter), and for tries at a secret
// (takeTry) a memory that each try renews. Sign-in throttling and the MFA factor lock use them.

/**
 * What a per-address limit counts by: an IPv4 address, or the /64 an IPv6 address is in (one
 * subscriber usually holds a whole /64, so counting each address would give them 2^64 budgets).
 */
export function rateLimitAddress(ip: string | null | undefined): string {
  if (!ip || !ipaddr.isValid(ip)) return "unknown";
  const address = ipaddr.process(ip);
  if (address.kind() === "ipv4") return address.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/64`).toString()}/64`;
}

export type Counter = { count: number; windowEndsAt: Date; lockedUntil: Date | null };

export async function readCounters(keys: string[]): Promise<Map<string, Counter>> {
  const rows = await db().rateLimitCounter.findMany({ where: { key: { in: keys } } });
  return new Map(rows.map((r) => [r.key, { count: r.count, windowEndsAt: r.windowEndsAt, lockedUntil: r.lockedUntil }]));
}

/** Adds one in a single atomic statement (in `client`'s transaction, if any); a counter whose window has ended starts again at 1. */
export async function bumpCounter(key: string, windowMs: number, now = new Date(), client: Prisma.TransactionClient = db()): Promise<{ count: number }> {
  const windowEnds = new Date(now.getTime() + windowMs);
  const rows = await client.$queryRaw<{ count: number }[]>`
    INSERT INTO rate_limit_counters (key, count, window_ends_at)
    VALUES (${key}, 1, ${windowEnds})
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit_counters.window_ends_at <= ${now} THEN 1 ELSE rate_limit_counters.count + 1 END,
      window_ends_at = CASE WHEN rate_limit_counters.window_ends_at <= ${now} THEN ${windowEnds} ELSE rate_limit_counters.window_ends_at END
    RETURNING count`;
  return { count: rows[0]!.count };
}

const DAY_MS = 86_400_000;

/**
 * Deletes counters whose window ended a day ago and that hold no lock: every typed email and
 * every source leaves one, which would otherwise pile up. Hourly (instrumentation.ts).
 */
export async function sweepCounters(now = new Date()): Promise<number> {
  const before = new Date(now.getTime() - DAY_MS);
  return db().$executeRaw`
    DELETE FROM rate_limit_counters WHERE window_ends_at < ${before} AND (locked_until IS NULL OR locked_until < ${now})`;
}

/** Sweeps the counters hourly in this process. */
export function scheduleCounterSweep(): void {
  everyHour("rate limit counter sweep", 7 * 60_000, () => sweepCounters());
}

export type TryRule = {
  /** How long tries are remembered after the latest one: failures count as consecutive until this much time passes with none. */
  windowMs: number;
  /** Every `limit`-th try (at least the 2nd) locks the key, for `lockMs` the first time, doubling each further time up to `maxLockMs`. */
  limit: number;
  lockMs: number;
  maxLockMs: number;
};

/**
 * Takes one try in a single atomic statement, unless the key is locked. The try that reaches a
 * multiple of `limit` locks the key in that same statement, before its secret is checked, so
 * requests sent in parallel cannot all pass a check made before any of them failed: the next
 * one finds the lock. A success clears the key (clearCounter), lock included; a failure keeps
 * its try. Returns the lock's end instead when the key is locked. Every try keeps the count for
 * another `windowMs` (a window fixed at the first try would let a burst of guesses either side
 * of its end pass with no lock: 1 + 4 + 4 of 5).
 */
export async function takeTry(key: string, rule: TryRule, now = new Date()): Promise<{ taken: true; locksIfFailed: boolean } | { taken: false; lockedUntil: Date }> {
  const windowEnds = new Date(now.getTime() + rule.windowMs);
  const rows = await db().$queryRaw<{ count: number; locked_until: Date | null }[]>`
    INSERT INTO rate_limit_counters (key, count, window_ends_at)
    VALUES (${key}, 1, ${windowEnds})
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit_counters.window_ends_at <= ${now} THEN 1 ELSE rate_limit_counters.count + 1 END,
      window_ends_at = ${windowEnds},
      locked_until = CASE
        WHEN (CASE WHEN rate_limit_counters.window_ends_at <= ${now} THEN 1 ELSE rate_limit_counters.count + 1 END) % ${rule.limit}::int = 0
        THEN ${now}::timestamptz + LEAST(
          ${rule.lockMs}::float8 * power(2, (CASE WHEN rate_limit_counters.window_ends_at <= ${now} THEN 1 ELSE rate_limit_counters.count + 1 END) / ${rule.limit}::int - 1),
          ${rule.maxLockMs}::float8) * interval '1 millisecond'
        ELSE rate_limit_counters.locked_until END
    WHERE rate_limit_counters.locked_until IS NULL OR rate_limit_counters.locked_until <= ${now}
    RETURNING count, locked_until`;
  if (rows[0]) return { taken: true, locksIfFailed: rows[0].count % rule.limit === 0 };
  const lockedUntil = (await readCounters([key])).get(key)?.lockedUntil;
  // Cleared between the two statements (a success elsewhere): the try may go ahead next time.
  return { taken: false, lockedUntil: lockedUntil && lockedUntil > now ? lockedUntil : new Date(now.getTime() + 1000) };
}

/** Locks the key until `until`, or leaves a longer lock as it is: a shorter lock never lifts one. */
export async function lockCounter(key: string, until: Date): Promise<void> {
  await db().$executeRaw`UPDATE rate_limit_counters SET locked_until = GREATEST(locked_until, ${until}::timestamptz) WHERE key = ${key}`;
}

/** The counter `from` becomes `to` (in the caller's transaction), kept at the larger of the two where both exist. */
export async function moveCounter(tx: Prisma.TransactionClient, from: string, to: string): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO rate_limit_counters (key, count, window_ends_at, locked_until)
    SELECT ${to}, count, window_ends_at, locked_until FROM rate_limit_counters WHERE key = ${from}
    ON CONFLICT (key) DO UPDATE SET count = GREATEST(rate_limit_counters.count, EXCLUDED.count),
      window_ends_at = GREATEST(rate_limit_counters.window_ends_at, EXCLUDED.window_ends_at),
      locked_until = GREATEST(rate_limit_counters.locked_until, EXCLUDED.locked_until)`;
  await tx.rateLimitCounter.deleteMany({ where: { key: from } });
}

export async function clearCounter(key: string): Promise<void> {
  await db().rateLimitCounter.deleteMany({ where: { key } });
}

export const secondsUntil = (t: Date, now: Date) => Math.max(1, Math.ceil((t.getTime() - now.getTime()) / 1000));
