// Percentiles, formatting and the results table.

export type Summary = { n: number; min: number; p50: number; p95: number; p99: number; max: number; mean: number };

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Per-second rate of `count` things done in `ms` milliseconds. */
export const rate = (count: number, ms: number) => (ms > 0 ? (count * 1000) / ms : Number.NaN);

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return "-";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtRate(perSecond: number | undefined, unit = "/s"): string {
  if (perSecond === undefined || Number.isNaN(perSecond)) return "-";
  return `${Math.round(perSecond).toLocaleString("en-US")}${unit}`;
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US");

export function fmtBytes(bytes: number): string {
  const sign = bytes < 0 ? "-" : "";
  const b = Math.abs(bytes);
  if (b >= 1024 ** 3) return `${sign}${(b / 1024 ** 3).toFixed(2)} GiB`;
  if (b >= 1024 ** 2) return `${sign}${(b / 1024 ** 2).toFixed(1)} MiB`;
  if (b >= 1024) return `${sign}${(b / 1024).toFixed(1)} KiB`;
  return `${sign}${b} B`;
}

export const mark = (pass: boolean | null) => (pass === null ? "" : pass ? "PASS" : "MISS");

/** One line of the results table. */
export type Row = {
  section: string;
  name: string;
  n: number;
  p50?: number;
  p95?: number;
  p99?: number;
  /** Throughput, already per second, in `unit`. */
  throughput?: number;
  unit?: string;
  target?: string;
  pass: boolean | null;
  note?: string;
};

/** A results row whose p50, p95 and p99 are those of `s`. */
export function summaryRow(s: Summary, fields: Omit<Row, "p50" | "p95" | "p99">): Row {
  return { ...fields, p50: s.p50, p95: s.p95, p99: s.p99 };
}

export function renderTable(rows: readonly Row[]): string {
  const header = ["Measurement", "n", "p50", "p95", "p99", "throughput", "target", "result", "notes"];
  const body = rows.map((r) => [
    `${r.section}: ${r.name}`,
    fmtInt(r.n),
    fmtMs(r.p50),
    fmtMs(r.p95),
    fmtMs(r.p99),
    fmtRate(r.throughput, r.unit ?? "/s"),
    r.target ?? "",
    mark(r.pass),
    r.note ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => line[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 1 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line)].join("\n");
}

/** The same rows as a Markdown table (for bench/README.md). */
export function renderMarkdown(rows: readonly Row[]): string {
  const header = "| Measurement | n | p50 | p95 | p99 | throughput | target | result | notes |";
  const sep = "|---|--:|--:|--:|--:|--:|---|---|---|";
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const body = rows.map(
    (r) =>
      `| ${esc(`${r.section}: ${r.name}`)} | ${fmtInt(r.n)} | ${fmtMs(r.p50)} | ${fmtMs(r.p95)} | ${fmtMs(r.p99)} | ${fmtRate(r.throughput, r.unit ?? "/s")} | ${esc(r.target ?? "")} | ${mark(r.pass)} | ${esc(r.note ?? "")} |`,
  );
  return [header, sep, ...body].join("\n");
}
