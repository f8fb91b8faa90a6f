import Link from "next/link";
import { Card } from "./card";

/** A page that can only explain and point on (a link not valid, a feature not set up). */
export function NoticeCard({ title, children, link, testId }: { title: string; children: React.ReactNode; link: { href: string; label: string }; testId?: string }) {
  return (
    <Card title={title}>
      <p className="text-sm text-slate-600" data-testid={testId}>
        {children}
      </p>
      <Link href={link.href} className="mt-4 inline-block text-sm font-medium text-brand-700 hover:underline">
        {link.label}
      </Link>
    </Card>
  );
}
