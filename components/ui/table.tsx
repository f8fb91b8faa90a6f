import type { ComponentProps } from "react";

// The console's data tables, one look for all: scroll sideways when too wide, small uppercase
// headings, a rule between rows, and a gap after every column but the last. Rows are plain <tr>s
// (they carry the keys and test ids); `className` adds to a part's look (alignment, type, width).

const cell = "py-2 pr-4 last:pr-0";

export function Table({ className = "", ...props }: ComponentProps<"table">) {
  return (
    <div className="overflow-x-auto">
      <table className={`w-full text-left text-sm ${className}`} {...props} />
    </div>
  );
}

/** The heading row: its cells are <Th>s. */
export function TableHead({ children }: { children: React.ReactNode }) {
  return (
    <thead className="text-xs uppercase tracking-wide text-slate-500">
      <tr>{children}</tr>
    </thead>
  );
}

export function Th({ className = "", ...props }: ComponentProps<"th">) {
  return <th className={`${cell} font-medium ${className}`} {...props} />;
}

export function TableBody(props: ComponentProps<"tbody">) {
  return <tbody className="divide-y divide-slate-100" {...props} />;
}

export function Td({ className = "", ...props }: ComponentProps<"td">) {
  return <td className={`${cell} ${className}`} {...props} />;
}
