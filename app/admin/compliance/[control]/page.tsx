import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Card } from "@/components/ui/card";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { PageHeader } from "@/components/shell/page-header";
import { ExceptionStateBadge, StatusBadge } from "@/components/compliance/status-badge";
import { FindingsList } from "@/components/compliance/findings-list";
import { LocalTime } from "@/components/ui/local-time";
import { requireAccess, viewableSections } from "@/lib/auth";
import { CHECKS, controlHistory, controlStatus, listExceptions } from "@/lib/compliance";
import { parseJsonOrNull } from "@/lib/util/json";

export async function generateMetadata({ params }: { params: Promise<{ control: string }> }): Promise<Metadata> {
  return { title: `Control ${(await params).control}` };
}

const FRAMEWORKS = { iso27001: "ISO/IEC 27001:2022 Annex A", nist80053: "NIST SP 800-53 rev. 5", hipaa: "HIPAA Security Rule", gdpr: "GDPR Article" } as const;

export default async function ControlPage({ params }: { params: Promise<{ control: string }> }) {
  const user = await requireAccess("compliance");
  const id = (await params).control;
  const control = (await controlStatus()).find((c) => c.id === id);
  if (!control) notFound();
  const [history, exceptions, sections] = await Promise.all([controlHistory(id), listExceptions({ control: id }), viewableSections(user)]);
  // Findings link to the sections this viewer may open (an auditor reads an admin's email, an admin opens the account).
  const openable = new Set(sections.map((s) => s.id));

  return (
    <>
      <Link href="/admin/compliance" className="text-sm text-brand-700 hover:underline">← Compliance</Link>
      <PageHeader title={`${control.id} ${control.title}`} description={`Owner: ${control.owner}`} actions={<StatusBadge status={control.status} nothingToCheck={control.nothingToCheck} />} />
      <div className="space-y-6">
        <Card title="Mapped requirements">
          <dl className="grid gap-2 text-sm sm:grid-cols-[220px_1fr]">
            {Object.entries(FRAMEWORKS).map(([key, name]) => (
              <div key={key} className="contents">
                <dt className="text-slate-500">{name}</dt>
                <dd>{control.mappings[key as keyof typeof FRAMEWORKS].join(", ") || "—"}</dd>
              </div>
            ))}
          </dl>
        </Card>

        <Card title="Automated tests" description="What each test checks in the live system, and its latest result.">
          <ul className="space-y-3 text-sm">
            {CHECKS.filter((c) => c.control === id).map((check) => {
              const latest = control.checks.find((r) => r.check === check.key);
              return (
                <li key={check.key} data-testid="check-row">
                  <div className="flex flex-wrap items-baseline gap-2">
                    <StatusBadge status={latest?.status ?? "not_tested"} nothingToCheck={latest?.nothingToCheck} />
                    <span className="font-medium">{check.title}</span>
                    <span className="text-slate-500">{latest ? <>{latest.summary} (<LocalTime at={latest.at} />)</> : "Not tested in the last 3 days."}</span>
                  </div>
                  {latest && <FindingsList findings={latest.findings} openable={openable} />}
                </li>
              );
            })}
          </ul>
          {control.exception && <p className="mt-3 text-sm text-amber-800">Excepted until <LocalTime at={control.exception.expiresAt} />: {control.exception.justification}</p>}
        </Card>

        <Card title="History and evidence" description="Every result, newest first (latest 100). The evidence is the data the test looked at, stored as canonical JSON; its SHA-256 is in the run's audit event, next to the test's key.">
          {history.length === 0 ? <p className="text-sm text-slate-500">No result yet.</p> : (
            <Table>
              <TableHead><Th>Tested</Th><Th>Test</Th><Th>Result</Th><Th>Evidence</Th></TableHead>
              <TableBody>
                {history.map((r) => (
                  <tr key={r.id} data-testid="history-row">
                    <Td className="whitespace-nowrap align-top text-xs"><LocalTime at={r.at} /></Td>
                    <Td className="align-top text-xs">
                      {r.title}
                      <span className="block font-mono text-[11px] text-slate-500">{r.check}</span>
                    </Td>
                    <Td className="align-top text-xs">
                      <StatusBadge status={r.status} nothingToCheck={r.nothingToCheck} /> {r.summary}
                      <FindingsList findings={r.findings} openable={openable} />
                    </Td>
                    <Td className="align-top text-xs">
                      <details>
                        <summary className="cursor-pointer font-mono text-brand-700">sha256 {r.evidenceSha256.slice(0, 16)}…</summary>
                        {!r.evidenceIntact && <p className="mt-1 font-medium text-red-700" data-testid="evidence-altered">Altered: this evidence does not hash to the SHA-256 its run recorded in the audit trail.</p>}
                        <pre className="mt-1 max-h-64 overflow-auto whitespace-pre-wrap break-all rounded bg-slate-50 p-2 text-[11px]">{prettyJson(r.evidence)}</pre>
                        <p className="mt-1 break-all font-mono text-[11px] text-slate-500">{r.evidenceSha256}</p>
                      </details>
                    </Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
        </Card>

        <Card title="Exceptions" actions={<Link className="text-sm text-brand-700 hover:underline" href="/admin/compliance/exceptions">Manage exceptions</Link>}>
          {exceptions.length === 0 ? <p className="text-sm text-slate-500">None.</p> : (
            <ul className="space-y-2 text-sm">
              {exceptions.map((e) => (
                <li key={e.id}><ExceptionStateBadge state={e.state} /> until <LocalTime at={e.expiresAt} /> · {e.justification} <span className="text-slate-500">(requested by {e.requestedBy ?? "—"}, approved by {e.approvedBy ?? "—"})</span></li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}

/** Evidence laid out for reading; shown as stored when it is not JSON (altered in the database). */
function prettyJson(text: string): string {
  const value = parseJsonOrNull(text);
  return value === null ? text : JSON.stringify(value, null, 2);
}
