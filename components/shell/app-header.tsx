import Link from "next/link";
import type { CurrentUser } from "@/lib/auth";
import { signOutAction } from "./actions";

/** `showConsole`: the user may open at least one console section (the caller asked the policies). */
export function AppHeader({ user, showConsole }: { user: CurrentUser; showConsole: boolean }) {
  return (
    <header className="border-b border-slate-200 bg-white">
      <div className="mx-auto flex max-w-6xl items-center justify-between gap-4 px-4 py-3">
        <nav aria-label="Main" className="flex items-center gap-6">
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
        <div className="flex items-center gap-3">
          <span className="hidden text-sm text-slate-600 sm:inline" data-testid="signed-in-as">
            {user.email}
          </span>
          <form action={signOutAction}>
            <button type="submit" className="rounded-md px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100">
              Sign out
            </button>
          </form>
        </div>
      </div>
    </header>
  );
}
