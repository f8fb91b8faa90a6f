import type { CurrentUser } from "@/lib/auth";
import { AppHeader } from "./app-header";
import { SideNav, type NavItem } from "./side-nav";

/**
 * The frame of the account and console pages: header, section menu, page. The page's column may
 * shrink below its content's width (minmax(0, 1fr), min-w-0): wide tables then scroll inside their
 * own overflow-x-auto box instead of widening the whole page on a phone.
 */
export function AppShell({ user, showConsole, nav, children }: { user: CurrentUser; showConsole: boolean; nav: { label: string; items: NavItem[] }; children: React.ReactNode }) {
  return (
    <>
      <AppHeader user={user} showConsole={showConsole} />
      <div className="mx-auto grid max-w-6xl grid-cols-1 gap-6 px-4 py-6 md:grid-cols-[200px_minmax(0,1fr)] md:gap-8 md:py-8">
        <SideNav label={nav.label} items={nav.items} />
        <main className="min-w-0">{children}</main>
      </div>
    </>
  );
}
