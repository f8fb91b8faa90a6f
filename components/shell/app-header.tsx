import Link from "next/link";
import type { CurrentUser } from "@/lib/auth";
import { signOutAction } from "./actions";

/** `showConsole`: the user may open at least one console section (the caller asked the policies). */
export function AppHeader({ user, showConsole }: { user: CurrentUser; showConsole: boolean }) {
  // Labels never break inside ("My / account" on a phone); if the row is still too narrow, whole
  // items move to a second line.
  return (
    <header className="border-b border-slate-200 bg-white">
      <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3 whitespace-nowrap">
        <nav aria-label="Main" className="flex items-center gap-4 sm:gap-6">
          <Link href="/account" className="text-lg font-semibold tracking-tight text-brand-900">
            Gatehouse
          </Link>
          <Link href="/account" className="text-sm text-slate-600 hover:text-slate-900">
            My account
          </Link>
          {showConsole && (
            <Link href="/admin" className="text-sm text-slate-600 hover:text-slate-900">
              Console
            </Link>
          )}
        </nav>
        <div className="flex min-w-0 items-center gap-3">
          <span className="hidden max-w-xs truncate text-sm text-slate-600 sm:block" data-testid="signed-in-as">
            {user.email}
          </span>
          <form action={signOutAction}>
            <button type="submit" className="-mr-2 rounded-md px-2 py-1.5 text-sm text-slate-700 hover:bg-slate-100 sm:mr-0 sm:px-3">
              Sign out
            </button>
          </form>
        </div>
      </div>
    </header>
  );
}
