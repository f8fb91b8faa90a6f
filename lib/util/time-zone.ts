// The organisation's local hour and weekday (GATEHOUSE_TIME_ZONE): for the policies' context.hour
// and context.dayOfWeek, and for detection's working hours. Not "server-only": pure.

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The hour (0–23) and weekday (0 = Sunday) of `at` in `timeZone` (an IANA name). */
export function localHourAndDay(at: Date, timeZone: string): { hour: number; dayOfWeek: number } {
  let formatter = formatters.get(timeZone);
  if (!formatter) formatters.set(timeZone, (formatter = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", hour: "numeric", weekday: "short" })));
  const parts = formatter.formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return { hour: Number(part("hour")) % 24, dayOfWeek: WEEKDAYS.indexOf(part("weekday")) };
}
