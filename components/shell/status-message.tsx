import Link from "next/link";

export type StatusLink = { href: string; label: string };

/** What an error page says: the status, what happened, and where to go from here. */
export function StatusMessage({ status, title, children, links, action }: { status: 403 | 404 | 500; title: string; children?: React.ReactNode; links: StatusLink[]; action?: React.ReactNode }) {
  return (
    <div className="mx-auto max-w-md py-12 text-center">
      <p className="text-sm font-semibold text-brand-700">{status}</p>
      <h1 className="mt-2 text-2xl font-semibold">{title}</h1>
      {children && <p className="mt-2 text-sm text-slate-600">{children}</p>}
      <p className="mt-6 flex flex-wrap items-center justify-center gap-x-6 gap-y-2 text-sm font-medium">
        {action}
        {links.map((link) => (
          <Link key={link.href} href={link.href} className="text-brand-700 hover:underline">
            {link.label}
          </Link>
        ))}
      </p>
    </div>
  );
}
