"use client";
import { useBrowserValue } from "./browser-value";
import { formatDateTime } from "@/lib/util/format";

/**
 * A moment in the reader's own time zone. The server renders it in UTC; once the page is
 * hydrated the browser shows its local time instead (the first render in the browser still
 * matches the server's HTML, so there is no hydration mismatch). The tooltip keeps the exact UTC
 * time for comparing with logs and exports.
 */
export function LocalTime({ at }: { at: Date | null | undefined }) {
  const timeZone = useReaderTimeZone();
  if (!at) return <>—</>;
  const iso = at.toISOString();
  return (
    <time dateTime={iso} title={`${iso.slice(0, 19).replace("T", " ")} UTC`} className="whitespace-nowrap">
      {formatDateTime(at, timeZone)}
    </time>
  );
}

/** The reader's time zone, for times that cannot be a <LocalTime> (a chart's labels): UTC until hydrated. */
export function useReaderTimeZone(): string {
  return useBrowserValue(browserTimeZone, "UTC");
}

const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
