import Link from "next/link";
import type { Finding } from "@/lib/compliance";
import type { ConsoleSection } from "@/lib/policy";

const SHOWN = 20;

/**
 * The accounts or objects a test result names. Each links to its page when the viewer may open
 * that section (an auditor reads the name; an admin can go and fix it); a long list is cut short,
 * the rest stays in the evidence.
 */
export function FindingsList({ findings, openable }: { findings: Finding[]; openable: ReadonlySet<ConsoleSection> }) {
  if (findings.length === 0) return null;
  return (
    <ul className="mt-1 list-disc space-y-0.5 pl-5" data-testid="findings">
      {findings.slice(0, SHOWN).map((f, i) => (
        <li key={i}>
          {f.link && openable.has(f.link.section) ? <Link href={f.link.href} className="text-brand-700 hover:underline">{f.label}</Link> : f.label}
        </li>
      ))}
      {findings.length > SHOWN && <li className="list-none text-slate-500">…and {findings.length - SHOWN} more in the evidence.</li>}
    </ul>
  );
}
