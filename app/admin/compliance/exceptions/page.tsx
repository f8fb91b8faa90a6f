import type { Metadata } from "next";
import Link from "next/link";
import { Card } from "@/components/ui/card";
import { ActionButton } from "@/components/ui/action-form";
import { PageHeader } from "@/components/shell/page-header";
import { ExceptionRequestForm } from "@/components/compliance/exception-request-form";
import { ExceptionStateBadge } from "@/components/compliance/status-badge";
import { LocalTime } from "@/components/ui/local-time";
import { canAccessAfterStepUp, requireAccess } from "@/lib/auth";
import { checkTitle, CONTROLS, failingResults, listExceptions } from "@/lib/compliance";
import { approveExceptionAction, requestExceptionAction, revokeExceptionAction } from "../actions";
import { ComplianceNav } from "../compliance-nav";

export const metadata: Metadata = { title: "Compliance exceptions" };

// What a test named when the exception was approved: only those are excepted (none listed: the whole test).
const SHOWN = 10;
const exceptedFindings = (findings: { label: string }[] | undefined) =>
  !findings?.length ? "" : ` (only ${findings.slice(0, SHOWN).map((f) => f.label).join(", ")}${findings.length > SHOWN ? ` and ${findings.length - SHOWN} more` : ""})`;

export default async function ExceptionsPage({ searchParams }: { searchParams: Promise<{ control?: string }> }) {
  const user = await requireAccess("compliance");
  const [exceptions, canManage] = await Promise.all([listExceptions(), canAccessAfterStepUp(user, { section: "compliance", action: "manage" })]);
  // What approving each pending request would except: what its control's tests name now.
  const now = new Date();
  const pendingControls = [...new Set(exceptions.filter((e) => e.state === "pending").map((e) => e.control))];
  const failingNow = new Map(await Promise.all(pendingControls.map(async (control) => [control, await failingResults(control, now)] as const)));
  const requested = (await searchParams).control;

  return (
    <>
      <PageHeader title="Compliance" description="A failing control's risk can be accepted for a while: one admin requests an exception, another approves it." />
      <ComplianceNav current="/admin/compliance/exceptions" />
      <div className="grid gap-6 lg:grid-cols-[1fr_340px]">
        <Card title="Exceptions" description="Newest first. Only an approved exception that has not expired or been revoked counts.">
          {exceptions.length === 0 ? <p className="text-sm text-slate-500">No exception has been requested.</p> : (
            <ul className="divide-y divide-slate-100">
              {exceptions.map((e) => (
                <li key={e.id} className="flex flex-wrap items-start justify-between gap-3 py-3 text-sm" data-testid="exception-row">
                  <div className="space-y-1">
                    <p>
                      <Link href={`/admin/compliance/${encodeURIComponent(e.control)}`} className="font-medium text-brand-700 hover:underline">{e.control}</Link>{" "}
                      <ExceptionStateBadge state={e.state} /> <span className="text-slate-500">until <LocalTime at={e.expiresAt} /></span>
                    </p>
                    <p className="text-slate-700">{e.justification}</p>
                    {e.state === "pending" && (
                      <p className="text-xs text-slate-600" data-testid="would-except">
                        {failingNow.get(e.control)?.length
                          ? <>Approving it now excepts: {failingNow.get(e.control)!.map((r) => checkTitle(r.check) + exceptedFindings(r.findings)).join("; ")}</>
                          : "No test of this control fails now: there is nothing to approve."}
                      </p>
                    )}
                    {e.checks.length > 0 && (
                      <p className="text-xs text-slate-600" data-testid="excepted-tests">
                        Excepts: {e.checks.map((check) => checkTitle(check) + exceptedFindings(e.findings?.[check])).join("; ")}
                      </p>
                    )}
                    <p className="text-xs text-slate-500">
                      Requested by {e.requestedBy ?? "—"} on <LocalTime at={e.createdAt} />
                      {e.approvedBy && <> · approved by {e.approvedBy} on <LocalTime at={e.approvedAt} /></>}
                      {e.revokedAt && <> · {e.state === "rejected" ? "rejected" : "revoked"} by {e.revokedBy ?? "—"} on <LocalTime at={e.revokedAt} /></>}
                    </p>
                  </div>
                  {canManage && (e.state === "pending" || e.state === "in_force") && (
                    <div className="flex gap-2">
                      {e.state === "pending" && <ActionButton action={approveExceptionAction} fields={{ exceptionId: e.id }} label="Approve" variant="primary" />}
                      <ActionButton action={revokeExceptionAction} fields={{ exceptionId: e.id }} label={e.state === "pending" ? "Reject" : "Revoke"}
                        confirm={e.state === "pending" ? "Reject this request?" : "Revoke this exception? The control fails again at its next test."} />
                    </div>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Card>
        {canManage ? (
          <Card title="Request an exception">
            <ExceptionRequestForm action={requestExceptionAction} controls={CONTROLS.map(({ id, title }) => ({ id, title }))} defaultControl={CONTROLS.some((c) => c.id === requested) ? requested : undefined} />
          </Card>
        ) : (
          <Card title="Read only"><p className="text-sm text-slate-600">The access policies let you see exceptions, not request or approve them.</p></Card>
        )}
      </div>
    </>
  );
}
