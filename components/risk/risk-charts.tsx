"use client";
import { Bar, BarChart, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { TimelinePoint } from "@/lib/risk/reports";

// Recharts needs the browser; the page hands these components plain data from lib/risk.

const hourLabel = (iso: string, daily: boolean) => {
  const d = new Date(iso);
  return daily ? d.toISOString().slice(5, 10) : `${d.toISOString().slice(5, 10)} ${d.toISOString().slice(11, 13)}h`;
};

export function RiskTimeline({ points, daily }: { points: TimelinePoint[]; daily: boolean }) {
  if (points.length === 0) return <p className="text-sm text-slate-500">No sign-in attempts in this period.</p>;
  return (
    <div className="h-64" data-testid="risk-timeline">
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart data={points.map((p) => ({ ...p, label: hourLabel(p.at, daily) }))} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="label" fontSize={11} tickLine={false} minTickGap={24} />
          <YAxis yAxisId="count" fontSize={11} allowDecimals={false} tickLine={false} />
          <YAxis yAxisId="score" orientation="right" domain={[0, 1]} fontSize={11} tickLine={false} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar yAxisId="count" dataKey="attempts" name="Attempts" fill="#93c5fd" />
          <Bar yAxisId="count" dataKey="blocked" name="Blocked or refused" fill="#fca5a5" />
          <Line yAxisId="score" type="monotone" dataKey="maxScore" name="Highest score" stroke="#dc2626" dot={false} strokeWidth={2} />
          <Line yAxisId="score" type="monotone" dataKey="avgScore" name="Average score" stroke="#2f54eb" dot={false} strokeWidth={2} />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

export function ScoreDistribution({ bands }: { bands: { band: string; attempts: number }[] }) {
  return (
    <div className="h-64" data-testid="risk-distribution">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={bands} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="band" fontSize={11} tickLine={false} />
          <YAxis fontSize={11} allowDecimals={false} tickLine={false} />
          <Tooltip />
          <Bar dataKey="attempts" name="Attempts" fill="#2f54eb" />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
