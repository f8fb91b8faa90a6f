"use client";
import { Bar, BarChart, ComposedChart, Legend, Line, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame } from "@/components/ui/chart-frame";
import { legendText } from "@/components/ui/chart-legend";
import { useReaderTimeZone } from "@/components/ui/local-time";
import { formatUtcDay } from "@/lib/util/format";
import type { TimelinePoint } from "@/lib/risk/reports";

// Recharts needs the browser; the page hands these components plain data from lib/risk. Hours are
// labelled in the reader's time zone (useReaderTimeZone, as the compliance trend does).

// A day is a UTC day (lib/risk/reports.ts buckets on the server): formatUtcDay.

/** `bucketHours`: how long each point's period is (1, 6 or 24). */
export function RiskTimeline({ points, bucketHours }: { points: TimelinePoint[]; bucketHours: number }) {
  const timeZone = useReaderTimeZone();
  if (points.every((p) => p.attempts === 0)) return <p className="text-sm text-slate-500">No sign-in attempts in this period.</p>;
  const hourly = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone });
  const hourOnly = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone });
  const label = (start: Date) => (bucketHours === 24 ? formatUtcDay(start) : hourly.format(start));
  const period = (start: Date) =>
    bucketHours === 24 ? `${formatUtcDay(start)} (UTC day)` : `${hourly.format(start)}–${hourOnly.format(start.getTime() + bucketHours * 3_600_000)}`;
  // Blocked attempts are some of the attempts: stacked on the rest, one bar per period is all of them.
  const data = points.map((p) => ({ ...p, notBlocked: p.attempts - p.blocked, label: label(new Date(p.at)), period: period(new Date(p.at)) }));
  return (
    <ChartFrame chart={ComposedChart} data={data} testId="risk-timeline">
      <XAxis dataKey="label" fontSize={11} tickLine={false} minTickGap={24} />
      <YAxis yAxisId="count" fontSize={11} allowDecimals={false} tickLine={false} />
      <YAxis yAxisId="score" orientation="right" domain={[0, 1]} fontSize={11} tickLine={false} />
      <Tooltip labelFormatter={(_label, payload) => (payload[0]?.payload as (typeof data)[number] | undefined)?.period ?? ""} />
      <Legend wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
      <Bar yAxisId="count" dataKey="notBlocked" name="Not blocked" stackId="attempts" fill="#93c5fd" maxBarSize={24} />
      <Bar yAxisId="count" dataKey="blocked" name="Blocked or refused" stackId="attempts" fill="#fca5a5" maxBarSize={24} />
      {/* Quiet periods have no score (null): the lines break there, and dots show a lone period. */}
      <Line yAxisId="score" type="monotone" dataKey="maxScore" name="Highest score" stroke="#dc2626" dot={{ r: 2 }} strokeWidth={2} />
      <Line yAxisId="score" type="monotone" dataKey="avgScore" name="Average score" stroke="#2f54eb" dot={{ r: 2 }} strokeWidth={2} />
    </ChartFrame>
  );
}

export function ScoreDistribution({ bands }: { bands: { band: string; attempts: number }[] }) {
  return (
    <ChartFrame chart={BarChart} data={bands} testId="risk-distribution">
      <XAxis dataKey="band" fontSize={11} tickLine={false} />
      <YAxis fontSize={11} allowDecimals={false} tickLine={false} />
      <Tooltip />
      <Bar dataKey="attempts" name="Attempts" fill="#2f54eb" />
    </ChartFrame>
  );
}
