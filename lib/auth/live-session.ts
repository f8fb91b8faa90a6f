import "server-only";
import type { Prisma } from "../db/client";
import { readConfig } from "../config";

// When a session is in force: not ended, not past its lifetime (GATEHOUSE_SESSION_HOURS), and used
// within the idle limit (GATEHOUSE_SESSION_IDLE_MINUTES), so a browser left signed in on a desk
// stops being a way in. Its own module, so that lib/devices counts sessions the same way without
// importing lib/auth/sessions (which imports lib/devices).

/** How long a session may go unused before it ends; null when there is no limit. */
export function sessionIdleMs(): number | null {
  const minutes = readConfig().GATEHOUSE_SESSION_IDLE_MINUTES;
  return minutes === 0 ? null : minutes * 60_000;
}

/** The sessions in force at `now`. */
export function liveSessionWhere(now: Date) {
  const idleMs = sessionIdleMs();
  return {
    endedAt: null,
    expiresAt: { gt: now },
    ...(idleMs === null ? {} : { lastSeenAt: { gt: new Date(now.getTime() - idleMs) } }),
  } satisfies Prisma.SessionWhereInput;
}

/** The limits in words, for the pages that list sessions. */
export function sessionLimitsText(): string {
  const idleMs = sessionIdleMs();
  const hours = readConfig().GATEHOUSE_SESSION_HOURS;
  const lifetime = `${hours} hour${hours === 1 ? "" : "s"}`;
  return idleMs === null ? `A session ends after ${lifetime}.` : `A session ends after ${lifetime}, or after ${idleMs / 60_000} minutes without use.`;
}
