import Link from "next/link";

/**
 * The tabs under a console section's header (Risk, Incidents): the current one is marked for screen
 * readers too. On a phone the row scrolls sideways; its base line is an inset shadow, since a
 * scrolling box would clip tabs that overlap a border.
 */
export function SectionTabs({ label, tabs, current }: { label: string; tabs: readonly { href: string; label: string }[]; current: string }) {
  return (
    <nav className="mb-6 flex gap-1 overflow-x-auto text-sm [scrollbar-width:thin] shadow-[inset_0_-1px_0_var(--color-slate-200)]" aria-label={label}>
      {tabs.map((t) => (
        <Link
          key={t.href}
          href={t.href}
          aria-current={t.href === current ? "page" : undefined}
          className="shrink-0 whitespace-nowrap border-b-2 border-transparent px-3 py-2 text-slate-600 hover:text-slate-900 aria-[current=page]:border-brand-600 aria-[current=page]:font-medium aria-[current=page]:text-slate-900"
        >
          {t.label}
        </Link>
      ))}
    </nav>
  );
}
