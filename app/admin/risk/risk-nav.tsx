import Link from "next/link";

const TABS = [
  { href: "/admin/risk", label: "Overview" },
  { href: "/admin/risk/ip-rules", label: "IP lists" },
  { href: "/admin/risk/settings", label: "Settings" },
] as const;

export function RiskNav({ current }: { current: (typeof TABS)[number]["href"] }) {
  return (
    <nav className="mb-6 flex gap-1 border-b border-slate-200 text-sm" aria-label="Risk">
      {TABS.map((t) => (
        <Link
          key={t.href}
          href={t.href}
          aria-current={t.href === current ? "page" : undefined}
          className="-mb-px border-b-2 border-transparent px-3 py-2 text-slate-600 hover:text-slate-900 aria-[current=page]:border-brand-600 aria-[current=page]:font-medium aria-[current=page]:text-slate-900"
        >
          {t.label}
        </Link>
      ))}
    </nav>
  );
}
