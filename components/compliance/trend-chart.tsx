"use client";
import { Area, AreaChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export type TrendRow = { label: string; pass: number; excepted: number; fail: number };

/** Controls passing, excepted and failing at each test run, stacked. */
export function ComplianceTrendChart({ points }: { points: TrendRow[] }) {
  if (points.length === 0) return <p className="text-sm text-slate-500">No test run in the last 90 days.</p>;
  return (
    <div className="h-56" data-testid="compliance-trend-chart">
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          <XAxis dataKey="label" fontSize={11} tickLine={false} minTickGap={24} />
          <YAxis fontSize={11} allowDecimals={false} tickLine={false} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Area type="stepAfter" dataKey="pass" name="Passing" stackId="s" stroke="#16a34a" fill="#bbf7d0" />
          <Area type="stepAfter" dataKey="excepted" name="Excepted" stackId="s" stroke="#d97706" fill="#fde68a" />
          <Area type="stepAfter" dataKey="fail" name="Failing" stackId="s" stroke="#dc2626" fill="#fecaca" />
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
}
