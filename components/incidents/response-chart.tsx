"use client";
import { Bar, ComposedChart, Legend, Line, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFrame } from "@/components/ui/chart-frame";
import { legendText } from "@/components/ui/chart-legend";
import type { ResponseTimePoint } from "@/lib/incidents/incidents";
import { formatUtcDay } from "@/lib/util/format";

/** Incidents opened per day, with the mean minutes to acknowledge and to resolve them. */
export function ResponseTimesChart({ points }: { points: ResponseTimePoint[] }) {
  if (points.every((p) => p.opened === 0)) return <p className="text-sm text-slate-500">No incidents in the last 30 days.</p>;
  // A series with no value would still get a legend entry that matches nothing on the chart.
  const acknowledged = points.some((p) => p.mttaMinutes !== null);
  const resolved = points.some((p) => p.mttrMinutes !== null);
  const data = points.map((p) => ({ ...p, label: formatUtcDay(new Date(`${p.day}T00:00:00Z`)) }));
  return (
    <div className="space-y-2">
      <ChartFrame chart={ComposedChart} data={data} testId="response-times-chart">
        <XAxis dataKey="label" fontSize={11} tickLine={false} minTickGap={24} />
        <YAxis yAxisId="count" fontSize={11} allowDecimals={false} tickLine={false} />
        {(acknowledged || resolved) && <YAxis yAxisId="minutes" orientation="right" fontSize={11} tickLine={false} />}
        <Tooltip />
        <Legend wrapperStyle={{ fontSize: 12 }} formatter={legendText} />
        <Bar yAxisId="count" dataKey="opened" name="Opened" fill="#93c5fd" maxBarSize={24} />
        {/* Dots: a day between quiet days has no neighbour to draw a line to. */}
        {acknowledged && <Line yAxisId="minutes" type="monotone" dataKey="mttaMinutes" name="Mean time to acknowledge (min)" stroke="#d97706" strokeWidth={2} dot={{ r: 3 }} connectNulls />}
        {resolved && <Line yAxisId="minutes" type="monotone" dataKey="mttrMinutes" name="Mean time to resolve (min)" stroke="#16a34a" strokeWidth={2} dot={{ r: 3 }} connectNulls />}
      </ChartFrame>
      {!(acknowledged && resolved) && (
        <p className="text-xs text-slate-500">
          {acknowledged
            ? "None of these incidents has been resolved yet, so there is no time to resolve to draw."
            : resolved
              ? "None of these incidents was acknowledged, so there is no time to acknowledge to draw."
              : "None of these incidents has been acknowledged or resolved yet, so there are no response times to draw."}
        </p>
      )}
    </div>
  );
}
