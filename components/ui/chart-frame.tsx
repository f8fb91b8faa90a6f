import { BarChart, CartesianGrid, ComposedChart, LineChart, ResponsiveContainer } from "recharts";

/**
 * The console's charts share a frame: a box of fixed height (`className`, h-64 unless told) that
 * the chart fills to its width, the same margins, and a light dashed grid. The children are the
 * chart's own axes, series, tooltip and legend. For client components (Recharts needs the browser).
 */
export function ChartFrame<Row extends object>({
  chart: Chart,
  data,
  testId,
  className = "h-64",
  children,
}: {
  chart: typeof BarChart | typeof ComposedChart | typeof LineChart;
  data: Row[];
  testId: string;
  className?: string;
  children: React.ReactNode;
}) {
  return (
    <div className={className} data-testid={testId}>
      <ResponsiveContainer width="100%" height="100%">
        <Chart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
          {children}
        </Chart>
      </ResponsiveContainer>
    </div>
  );
}
