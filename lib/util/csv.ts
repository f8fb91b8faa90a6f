// CSV as RFC 4180 writes it, for files people open in spreadsheets. Cells a spreadsheet would run
// as a formula (starting with =, +, -, @, a tab or a carriage return, or their full-width forms)
// get a leading ' (OWASP "CSV injection"): a name typed as =HYPERLINK(…) stays text. Our own
// rather than csv-stringify, whose general options cost an audit export four times the time per
// row (bench/README.md).

const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const NEEDS_QUOTES = /[",\n\r]/;

/** One cell: empty for null, quoted (with quotes doubled) when it holds a quote, comma or line break. */
export function csvCell(value: string | null | undefined): string {
  if (!value) return "";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Rows of cells, each row ending in a newline. */
export function csvRows(rows: readonly (readonly (string | null | undefined)[])[]): string {
  let text = "";
  for (const row of rows) text += `${row.map(csvCell).join(",")}\n`;
  return text;
}
