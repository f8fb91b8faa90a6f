"use client";
import { Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame } from "@/components/ui/chart-frame";
import { legendText } from "@/components/ui/chart-legend";
import { LocalTime, useReaderTimeZone } from "@/components/ui/local-time";
import type { TrendPoint } from "@/lib/compliance/status";
import { formatDateTime } from "@/lib/util/format";

const SERIES = [
  { key: "pass", name: "Passing", color: "#16a34a" },
  { key: "excepted", name: "Excepted", color: "#d97706" },
  { key: "fail", name: "Failing", color: "#dc2626" },
] as const;

/**
 * Controls passing, excepted and failing at each test run, one line each (not stacked: every point
 * is that count itself). A single run is no trend, so it is shown as its numbers. Times are the reader's.
 */
export function ComplianceTrendChart({ points }: { points: TrendPoint[] }) {
  const timeZone = useReaderTimeZone();
  if (points.length === 0) return <p className="text-sm text-slate-500">No test run in the last 90 days.</p>;
  if (points.length === 1) {
    const [run] = points as [TrendPoint];
    return (
      <div data-testid="compliance-trend-chart" className="text-sm text-slate-700">
        <p>One run so far (<LocalTime at={run.at} />):</p>
        <ul className="mt-2 flex flex-wrap gap-x-6 gap-y-1">
          {SERIES.map((s) => (
            <li key={s.key} className="flex items-center gap-2">
              <span aria-hidden className="size-3 rounded-sm" style={{ backgroundColor: s.color }} />
              {s.name}: <span className="font-semibold text-slate-900">{run[s.key]}</span>
            </li>
          ))}
        </ul>
        <p className="mt-2 text-slate-500">The trend appears after the next run.</p>
      </div>
    );
  }
  return (
    <ChartFrame chart={LineChart} data={points.map((p) => ({ ...p, label: formatDateTime(p.at, timeZone) }))} testId="compliance-trend-chart" className="h-56">
      <XAxis dataKey="label" fontSize={11} tickLine={false} minTickGap={24} />
      <YAxis fontSize={11} allowDecimals={false} tickLine={false} />
      <Tooltip />
      {/* Recharts colours legend text like its series; the swatch carries the colour, the text stays readable. */}
      <Legend wrapperStyle={{ fontSize: 12 }} iconType="square" formatter={legendText} />
      {SERIES.map((s) => (
        <Line key={s.key} type="linear" dataKey={s.key} name={s.name} stroke={s.color} strokeWidth={2} dot={{ r: 3, fill: s.color }} />
      ))}
    </ChartFrame>
  );
}
