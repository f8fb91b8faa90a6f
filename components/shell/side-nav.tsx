"use client";
import { useEffect, useRef } from "react";
import Link from "next/link";
import { usePathname } from "next/navigation";

export type NavItem = { href: string; label: string };

/**
 * The section menu: a column beside the page from md up, a row that scrolls sideways above it on
 * phones (nine console links stacked would push the page a screen down).
 */
export function SideNav({ label, items }: { label: string; items: NavItem[] }) {
  const pathname = usePathname();
  const nav = useRef<HTMLElement>(null);
  // On a phone the current section may sit past the edge of the row: bring it into view sideways
  // only (scrollIntoView would also move the page, away from a #fragment it was opened at).
  useEffect(() => {
    const row = nav.current;
    const current = row?.querySelector<HTMLElement>("[aria-current=page]");
    if (!row || !current || row.scrollWidth <= row.clientWidth) return;
    row.scrollLeft = current.offsetLeft - (row.clientWidth - current.offsetWidth) / 2;
  }, [pathname]);
  return (
    <nav ref={nav} aria-label={label} className="relative -mx-4 flex gap-1 overflow-x-auto [scrollbar-width:thin] border-b border-slate-200 px-4 pb-2 md:mx-0 md:block md:space-y-1 md:overflow-visible md:border-0 md:px-0 md:pb-0">
      {items.map((item) => {
        const active = pathname === item.href || (item.href !== "/admin" && item.href !== "/account" && pathname.startsWith(`${item.href}/`));
        return (
          <Link
            key={item.href}
            href={item.href}
            aria-current={active ? "page" : undefined}
            className={`flex shrink-0 items-center justify-between whitespace-nowrap rounded-md px-3 py-2 text-sm ${active ? "bg-brand-50 font-medium text-brand-700" : "text-slate-700 hover:bg-slate-100"}`}
          >
            {item.label}
          </Link>
        );
      })}
    </nav>
  );
}
