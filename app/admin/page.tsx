import type { Metadata } from "next";
import Link from "next/link";
import { PageHeader } from "@/components/shell/page-header";
import { requireConsole } from "@/lib/auth";

export const metadata: Metadata = { title: "Console" };

export default async function AdminHome() {
  const { sections } = await requireConsole();
  return (
    <>
      <PageHeader title="Console" description="Everything the access policies let you open." />
      <ul className="grid gap-4 sm:grid-cols-2">
        {sections.map((s) => (
          <li key={s.href}>
            <Link href={s.href} className="block h-full rounded-lg border border-slate-200 bg-white p-5 shadow-sm hover:border-brand-600">
              <h2 className="font-semibold">{s.label}</h2>
              <p className="mt-1 text-sm text-slate-500">{s.summary}</p>
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}
