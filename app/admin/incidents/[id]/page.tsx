import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { SeverityBadge, StatusBadge } from "@/components/incidents/badges";
import { AssignForm, CaptureForm, NoteForm, ResponseForm, StatusForm } from "@/components/incidents/incident-forms";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { canAccess, canAccessAfterStepUp, requireAccess } from "@/lib/auth";
import { MaybeLink } from "@/components/ui/maybe-link";
import { INCIDENT_TYPE_LABELS, RULES, findIncident, listChannels, listResponders, type IncidentType, type RuleKey } from "@/lib/incidents";
import { addNoteAction, assignAction, captureAction, changeStatusAction, responseAction, retryRunAction } from "../actions";
import { ActionButton } from "@/components/ui/action-form";

export const metadata: Metadata = { title: "Incident" };

const TIMELINE_TONES = { alert: "red", action: "amber", playbook: "brand", note: "neutral", status: "green", assignment: "neutral", evidence: "brand", severity: "red" } as const;

export default async function IncidentPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireAccess("incidents");
  const incident = await findIncident((await params).id);
  if (!incident) notFound();
  const [canManage, usersOpen, auditOpen] = await Promise.all([
    canAccessAfterStepUp(user, { section: "incidents", action: "manage" }),
    canAccess(user, { section: "users", action: "view" }),
    canAccess(user, { section: "audit", action: "view" }),
  ]);
  const [responders, channels] = canManage ? await Promise.all([listResponders(), listChannels()]) : [[], []];
  const responderEmails = responders.map((r) => r.email);
  const indicator = (kind: string, value: string) => (kind === "user" ? (incident.people.get(value) ?? `${value} (deleted account)`) : value);
  return (
    <>
      <PageHeader
        title={`INC-${incident.number}: ${incident.title}`}
        description={<>{INCIDENT_TYPE_LABELS[incident.type as IncidentType] ?? incident.type} · opened <LocalTime at={incident.createdAt} /> · last alert <LocalTime at={incident.lastAlertAt} /></>}
        actions={<div className="flex items-center gap-2"><SeverityBadge severity={incident.severity} /><StatusBadge status={incident.status} /></div>}
      />
      <p className="mb-4 text-sm"><Link className="text-brand-700 hover:underline" href="/admin/incidents">← All incidents</Link></p>
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-2">
          <Card title="Timeline" description="Alerts, automated and manual actions, notes and changes, oldest first.">
            <ol className="space-y-3" data-testid="timeline">
              {incident.timeline.map((e) => (
                <li key={e.id} className="flex gap-3 text-sm" data-testid="timeline-entry">
                  <span className="w-40 shrink-0 text-xs text-slate-500"><LocalTime at={e.at} /></span>
                  <span className="shrink-0"><Badge tone={TIMELINE_TONES[e.kind as keyof typeof TIMELINE_TONES] ?? "neutral"}>{e.kind}</Badge></span>
                  <span className="whitespace-pre-wrap text-slate-800">{e.text}{e.actorId && <span className="text-slate-500"> — {incident.people.get(e.actorId) ?? "a user"}</span>}</span>
                </li>
              ))}
            </ol>
            {canManage && <div className="mt-4 border-t border-slate-100 pt-4"><NoteForm action={addNoteAction} incidentId={incident.id} /></div>}
          </Card>
          <Card title="Alerts">
            <Table>
              <TableHead><Th>Rule</Th><Th>Severity</Th><Th>Summary</Th><Th>Seen</Th><Th>Audit event</Th></TableHead>
              <TableBody>
                {incident.alerts.map((a) => (
                  <tr key={a.id} data-testid="alert-row">
                    <Td>{RULES[a.rule as RuleKey]?.label ?? a.rule}</Td>
                    <Td><SeverityBadge severity={a.severity} /></Td>
                    <Td>{a.summary}{a.count > 1 && <span className="text-slate-500"> (×{a.count})</span>}</Td>
                    <Td className="text-xs"><LocalTime at={a.createdAt} />{a.count > 1 && <> – <LocalTime at={a.lastSeenAt} /></>}</Td>
                    <Td className="font-mono text-xs"><MaybeLink open={auditOpen} href={`/admin/audit/${a.sourceSeq}`}>#{a.sourceSeq.toString()}</MaybeLink></Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          </Card>
          <Card title="Playbook runs">
            {incident.runs.length === 0 ? <p className="text-sm text-slate-500">No playbook matched this incident.</p> : incident.runs.map((r) => (
              <div key={r.id} className="mb-4 last:mb-0" data-testid="playbook-run">
                <p className="text-sm font-medium">{r.playbookName} v{r.version} · <Badge tone={r.status === "succeeded" ? "green" : r.status === "failed" ? "red" : r.status === "cancelled" ? "neutral" : "amber"}>{r.status}</Badge> <span className="text-xs text-slate-500">{r.attempts} attempt{r.attempts === 1 ? "" : "s"}{r.finishedAt && <> · finished <LocalTime at={r.finishedAt} /></>}</span></p>
                <ol className="mt-1 list-decimal pl-6 text-sm">
                  {r.steps.map((s) => <li key={s.index}><Badge tone={s.status === "ok" ? "green" : s.status === "failed" ? "red" : "neutral"}>{s.status}</Badge> {s.detail}</li>)}
                </ol>
                {canManage && (r.status === "failed" || r.status === "cancelled") && (
                  <ActionButton action={retryRunAction} fields={{ incidentId: incident.id, runId: r.id }} label="Run again" pendingLabel="Starting…" showSuccess confirm="Run this playbook's steps that failed or did not run (those done are not done again) on the accounts and addresses of its alert?" askReason="Why run it again? (it goes into the audit trail)" />
                )}
              </div>
            ))}
          </Card>
        </div>
        <div className="space-y-6">
          <Card title="Affected users and indicators">
            <ul className="space-y-1 text-sm" data-testid="indicators">
              {incident.indicators.map((i) => (
                <li key={`${i.kind}:${i.value}`}><Badge>{i.kind}</Badge> {i.kind === "user" ? <MaybeLink open={usersOpen && incident.people.has(i.value)} href={`/admin/users/${i.value}`}>{indicator(i.kind, i.value)}</MaybeLink> : <span className="font-mono text-xs">{i.value}</span>}</li>
              ))}
              {incident.indicators.length === 0 && <li className="text-slate-500">None.</li>}
            </ul>
          </Card>
          <Card title="Evidence" description="Frozen snapshots of the related sessions, grants, sign-ins and audit events, with their SHA-256.">
            <ul className="space-y-2 text-sm">
              {incident.snapshots.map((s) => (
                <li key={s.id}>
                  <MaybeLink open={auditOpen} href={`/admin/incidents/${incident.id}/snapshots/${s.id}`}><LocalTime at={s.capturedAt} /></MaybeLink> <span className="text-slate-500">({s.reason})</span>
                  <p className="break-all font-mono text-xs text-slate-500">{s.sha256}</p>
                </li>
              ))}
              {incident.snapshots.length === 0 && <li className="text-slate-500">None yet (captured automatically from high severity).</li>}
            </ul>
            {!auditOpen && incident.snapshots.length > 0 && <p className="mt-2 text-xs text-slate-500">Snapshots hold audit trail entries: they open for those the policies let view the audit trail.</p>}
            {canManage && auditOpen && <div className="mt-4 border-t border-slate-100 pt-4"><CaptureForm action={captureAction} incidentId={incident.id} /></div>}
          </Card>
          {canManage ? (
            <>
              <Card title="Status" description="Closing it (resolved, false positive) cancels any playbook step still to run, and needs a recent MFA verification."><StatusForm action={changeStatusAction} incidentId={incident.id} status={incident.status} /></Card>
              <Card title="Assignment" description={incident.assignee ? `Assigned to ${incident.assignee}.` : "Nobody is assigned."}>
                <AssignForm action={assignAction} incidentId={incident.id} assignee={incident.assignee} responders={responderEmails} />
              </Card>
              <Card title="Respond" description="Acts on the affected users and indicators above, now. Needs a recent MFA verification.">
                <ResponseForm action={responseAction} incidentId={incident.id} channels={channels.map((c) => c.name)} responders={responderEmails} />
              </Card>
            </>
          ) : (
            <p className="text-sm text-slate-500">You can view this incident; the policies do not let you change it.</p>
          )}
        </div>
      </div>
    </>
  );
}
