import Link from "next/link";

const TABS = [
  { href: "/admin/incidents", label: "Incidents" },
  { href: "/admin/incidents/playbooks", label: "Playbooks" },
  { href: "/admin/incidents/rules", label: "Detection rules" },
  { href: "/admin/incidents/channels", label: "Notification channels" },
] as const;

export function IncidentsNav({ current }: { current: (typeof TABS)[number]["href"] }) {
  return (
    <nav className="mb-6 flex gap-1 border-b border-slate-200 text-sm" aria-label="Incidents">
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
