// Even time axes for the console's charts. Not "server-only": pure arithmetic.

/**
 * Every period of `stepMs` from the one holding `since` to the one holding `now`: the row a query
 * returned for it (keyed by the period's start in ms), or `empty` for a quiet one, so a chart's time
 * axis is even and a quiet stretch shows as such. Periods start at whole multiples of the step since
 * the epoch, as the queries' to_timestamp(floor(extract(epoch FROM at) / step) * step) does: UTC
 * hours and days whatever the database's time zone (date_trunc would use the session's).
 */
export function everyPeriod<T>(rows: Map<number, T>, since: Date, now: Date, stepMs: number, empty: (start: Date) => T): T[] {
  const periods: T[] = [];
  for (let start = Math.floor(since.getTime() / stepMs) * stepMs; start <= now.getTime(); start += stepMs) {
    periods.push(rows.get(start) ?? empty(new Date(start)));
  }
  return periods;
}
