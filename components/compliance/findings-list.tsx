import Link from "next/link";
import type { FindingState } from "@/lib/compliance";
import type { ConsoleSection } from "@/lib/policy";

const SHOWN = 20;

/**
 * The accounts or objects a test result names. Each links to its page when the viewer may open
 * that section (an auditor reads the name; an admin can go and fix it); a long list is cut short,
 * the rest stays in the evidence. While an exception for the test is in force, each says whether
 * the exception covers it: one it does not is a new risk, and keeps the control failing.
 */
export function FindingsList({ findings, openable }: { findings: FindingState[]; openable: ReadonlySet<ConsoleSection> }) {
  if (findings.length === 0) return null;
  return (
    <ul className="mt-1 list-disc space-y-0.5 pl-5" data-testid="findings">
      {findings.slice(0, SHOWN).map((f, i) => (
        <li key={i}>
          {f.link && openable.has(f.link.section) ? <Link href={f.link.href} className="text-brand-700 hover:underline">{f.label}</Link> : f.label}
          {f.excepted === true && <span className="ml-1 text-xs text-amber-700">(excepted)</span>}
          {f.excepted === false && <span className="ml-1 text-xs font-medium text-red-700">(not covered by the exception)</span>}
        </li>
      ))}
      {findings.length > SHOWN && <li className="list-none text-slate-500">…and {findings.length - SHOWN} more in the evidence.</li>}
    </ul>
  );
}
