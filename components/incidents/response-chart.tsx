"use client";
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ResponseTimePoint } from "@/lib/incidents/incidents";

/** Incidents opened per day, with the mean minutes to acknowledge and to resolve them. */
export function ResponseTimesChart({ points }: { points: ResponseTimePoint[] }) {
  if (points.length === 0) return <p className="text-sm text-slate-500">No incidents in the last 30 days.</p>;
  return (
    <div className="h-64" data-testid="response-times-chart">
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="day" fontSize={11} tickLine={false} minTickGap={24} />
          <YAxis yAxisId="count" fontSize={11} allowDecimals={false} tickLine={false} />
          <YAxis yAxisId="minutes" orientation="right" fontSize={11} tickLine={false} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar yAxisId="count" dataKey="opened" name="Opened" fill="#93c5fd" />
          <Line yAxisId="minutes" type="monotone" dataKey="mttaMinutes" name="Mean time to acknowledge (min)" stroke="#d97706" strokeWidth={2} connectNulls />
          <Line yAxisId="minutes" type="monotone" dataKey="mttrMinutes" name="Mean time to resolve (min)" stroke="#16a34a" strokeWidth={2} connectNulls />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
