import Link from "next/link";

/** A link when the viewer may open it, else its text: a page never links to a 403 of its own console. */
export function MaybeLink({ href, open, className = "text-brand-700 hover:underline", children }: { href: string; open: boolean; className?: string; children: React.ReactNode }) {
  return open ? (
    <Link className={className} href={href}>
      {children}
    </Link>
  ) : (
    <span>{children}</span>
  );
}
