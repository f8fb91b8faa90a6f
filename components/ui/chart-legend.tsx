/**
 * Legend text for Recharts: by default it takes each series' colour, and pale ones (light blue,
 * pink) are hard to read on white. The swatch keeps the colour; the text is the page's.
 */
export const legendText = (value: string) => <span className="text-slate-700">{value}</span>;
