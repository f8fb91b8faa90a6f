// Small formatting helpers shared by pages (no server-only: client components use them too).

export function formatWait(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 90) return `${minutes} minutes`;
  return `${Math.ceil(minutes / 60)} hours`;
}

const dateTimes = new Map<string, Intl.DateTimeFormat>();

/**
 * "4 Dec 2026, 02:07 UTC". The server knows no reader's time zone, so pages render UTC; in the
 * browser <LocalTime> passes the reader's zone ("4 Dec 2026, 03:07 CET"), which always names itself.
 */
export function formatDateTime(date: Date | null | undefined, timeZone = "UTC"): string {
  if (!date) return "—";
  let format = dateTimes.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short", timeZone });
    dateTimes.set(timeZone, format);
  }
  return format.format(date);
}

const THIS_SITE = "https://gatehouse.invalid";

/**
 * A same-site path to go to after signing in; anything else falls back to `fallback`. Judged by
 * the URL parser browsers use, which drops tabs and newlines and reads "\\" as "/": "/\t/evil.example"
 * is another host. The path returned is the parser's, so it is what the browser will open.
 */
export function safeReturnPath(candidate: string | null | undefined, fallback = "/account"): string {
  if (!candidate?.startsWith("/")) return fallback;
  const url = URL.canParse(candidate, THIS_SITE) ? new URL(candidate, THIS_SITE) : null;
  if (url?.origin !== THIS_SITE) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Dot segments collapse: "/.//evil.example" parses to the path "//evil.example", another host
  // when a browser follows it. Such a path is refused, not repaired.
  return path.startsWith("//") ? fallback : path;
}

/** "1 analyst", "3 analysts": a count with its noun, never "analyst(s)". */
export function counted(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

const utcDay = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });

/** "4 Dec": a chart's day, which the server bucketed as a UTC day (it knows no reader's zone). */
export const formatUtcDay = (date: Date): string => utcDay.format(date);
