import type { Metadata } from "next";
import Link from "next/link";
import { Card } from "@/components/ui/card";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { PageHeader } from "@/components/shell/page-header";
import { ActionButton } from "@/components/ui/action-form";
import { StatusBadge } from "@/components/compliance/status-badge";
import { ComplianceTrendChart } from "@/components/compliance/trend-chart";
import { LocalTime } from "@/components/ui/local-time";
import { requireAccess } from "@/lib/auth";
import { controlStatus, listRuns, statusTrend, CONTROL_STATUSES } from "@/lib/compliance";
import { runTestsAction } from "./actions";
import { ComplianceNav } from "./compliance-nav";

export const metadata: Metadata = { title: "Compliance" };

const STATUS_TITLES = { pass: "Passing", fail: "Failing", excepted: "Excepted", not_tested: "Not tested" } as const;

export default async function CompliancePage() {
  await requireAccess("compliance");
  const [controls, trend, runs] = await Promise.all([controlStatus(), statusTrend(90), listRuns({ take: 10 })]);
  const counts = Object.fromEntries(CONTROL_STATUSES.map((s) => [s, controls.filter((c) => c.status === s).length]));
  const untested = controls.filter((c) => c.nothingToCheck).length;

  return (
    <>
      <PageHeader
        title="Compliance"
        description="SOC 2 controls, tested automatically against the live system: daily, and whenever you run them."
        actions={<ActionButton action={runTestsAction} label="Run tests now" pendingLabel="Testing the live system…" variant="primary" size="md" showSuccess />}
      />
      <ComplianceNav current="/admin/compliance" />
      <div className="space-y-6">
        <div className="grid gap-4 sm:grid-cols-4">
          {CONTROL_STATUSES.map((s) => (
            <div key={s} className="rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm" data-testid={`count-${s}`}>
              <p className="text-xs uppercase tracking-wide text-slate-500">{STATUS_TITLES[s]}</p>
              <p className="text-2xl font-semibold text-slate-900">{counts[s]}</p>
              {s === "pass" && untested > 0 && <p className="text-xs text-slate-500">{untested} with nothing to check</p>}
            </div>
          ))}
        </div>

        <Card title="Controls" description="Each control's status from its tests' latest results. A failing control with an approved exception counts as excepted until the exception ends.">
          <Table>
            <TableHead>
              <Th>Control</Th>
              <Th>Status</Th>
              <Th>Latest findings</Th>
              <Th>Owner</Th>
            </TableHead>
            <TableBody>
              {controls.map((c) => (
                <tr key={c.id} data-testid="control-row">
                  <Td className="align-top">
                    <Link href={`/admin/compliance/${encodeURIComponent(c.id)}`} className="font-medium text-brand-700 hover:underline">{c.id}</Link>
                    <p className="text-xs text-slate-500">{c.title}</p>
                  </Td>
                  <Td className="align-top"><StatusBadge status={c.status} nothingToCheck={c.nothingToCheck} /></Td>
                  <Td className="align-top text-xs text-slate-600">
                    {c.checks.length === 0 ? "Not tested in the last 3 days." : (
                      <ul className="space-y-0.5">{c.checks.map((r) => <li key={r.check}><StatusBadge status={r.status} nothingToCheck={r.nothingToCheck} /> {r.summary}</li>)}</ul>
                    )}
                    {c.exception && <p className="mt-1 text-amber-800">Exception until <LocalTime at={c.exception.expiresAt} />: {c.exception.justification}</p>}
                  </Td>
                  <Td className="align-top text-xs text-slate-600">{c.owner}</Td>
                </tr>
              ))}
            </TableBody>
          </Table>
        </Card>

        <Card title="Trend" description="How many controls passed, were excepted and failed at each test run in the last 90 days.">
          <ComplianceTrendChart points={trend} />
        </Card>

        <Card title="Recent test runs">
          {runs.length === 0 ? <p className="text-sm text-slate-500">No run yet. The first scheduled run starts 15 minutes after the server; run them now with the button above.</p> : (
            <Table>
              <TableHead><Th>Started</Th><Th>Trigger</Th><Th>Tests</Th><Th>Audit event</Th></TableHead>
              <TableBody>
                {runs.map((r) => (
                  <tr key={r.id}>
                    <Td className="text-xs"><LocalTime at={r.startedAt} /></Td>
                    <Td className="text-xs">{r.trigger}</Td>
                    <Td className="text-xs">{r.passed} passed, {r.failed} failed</Td>
                    <Td className="text-xs">{r.auditSeq ? <Link className="text-brand-700 hover:underline" href={`/admin/audit/${r.auditSeq}`}>#{r.auditSeq}</Link> : "—"}</Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
        </Card>
      </div>
    </>
  );
}
