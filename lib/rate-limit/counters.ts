import "server-only";
import { db } from "../db/client";

// Fixed-window failure counters with an optional lock, shared by every instance through
// PostgreSQL (rate_limit_counters). Sign-in throttling and the MFA factor lock both use them.

export type Counter = { count: number; windowEndsAt: Date; lockedUntil: Date | null };

export async function readCounters(keys: string[]): Promise<Map<string, Counter>> {
  const rows = await db().rateLimitCounter.findMany({ where: { key: { in: keys } } });
  return new Map(rows.map((r) => [r.key, { count: r.count, windowEndsAt: r.windowEndsAt, lockedUntil: r.lockedUntil }]));
}

/** Adds one in a single atomic statement; a counter whose window has ended starts again at 1. */
export async function bumpCounter(key: string, windowMs: number, now = new Date()): Promise<{ count: number }> {
  const windowEnds = new Date(now.getTime() + windowMs);
  const rows = await db().$queryRaw<{ count: number }[]>`
    INSERT INTO rate_limit_counters (key, count, window_ends_at)
    VALUES (${key}, 1, ${windowEnds})
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit_counters.window_ends_at <= ${now} THEN 1 ELSE rate_limit_counters.count + 1 END,
      window_ends_at = CASE WHEN rate_limit_counters.window_ends_at <= ${now} THEN ${windowEnds} ELSE rate_limit_counters.window_ends_at END
    RETURNING count`;
  return { count: rows[0]!.count };
}

export async function lockCounter(key: string, until: Date): Promise<void> {
  await db().rateLimitCounter.update({ where: { key }, data: { lockedUntil: until } });
}

export async function clearCounter(key: string): Promise<void> {
  await db().rateLimitCounter.deleteMany({ where: { key } });
}

export const secondsUntil = (t: Date, now: Date) => Math.max(1, Math.ceil((t.getTime() - now.getTime()) / 1000));
