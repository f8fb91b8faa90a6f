import type { Metadata } from "next";
import Link from "next/link";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { PlaybookForm } from "@/components/incidents/playbook-forms";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { canAccessAfterStepUp, requireAccess } from "@/lib/auth";
import { INCIDENT_TYPE_LABELS, listPlaybooks } from "@/lib/incidents";
import { savePlaybookAction } from "../actions";
import { IncidentsNav } from "../incidents-nav";
import { StepReference } from "./step-reference";

export const metadata: Metadata = { title: "Playbooks" };

export default async function PlaybooksPage() {
  const user = await requireAccess("incidents");
  const [playbooks, canEdit] = await Promise.all([listPlaybooks(), canAccessAfterStepUp(user, { section: "policies", action: "manage" })]);
  return (
    <>
      <PageHeader title="Incidents" description="Playbooks respond to incidents automatically, in a job queue that survives restarts; every step is audited." />
      <IncidentsNav current="/admin/incidents/playbooks" />
      <div className="space-y-6">
        <Card title="Playbooks">
          <Table>
            <TableHead><Th>Name</Th><Th>Trigger</Th><Th>Steps</Th><Th>Version</Th><Th>State</Th></TableHead>
            <TableBody>
              {playbooks.map((p) => (
                <tr key={p.id} data-testid="playbook-row">
                  <Td><Link className="font-medium text-brand-700 hover:underline" href={`/admin/incidents/playbooks/${p.id}`}>{p.name}</Link></Td>
                  <Td>{INCIDENT_TYPE_LABELS[p.triggerType]}, {p.minSeverity} or worse</Td>
                  <Td>{p.steps.map((s) => s.kind.replaceAll("_", " ")).join(" → ")}</Td>
                  <Td>v{p.version} · <LocalTime at={p.updatedAt} /></Td>
                  <Td>{p.enabled ? <Badge tone="green">enabled</Badge> : <Badge>disabled</Badge>}</Td>
                </tr>
              ))}
            </TableBody>
          </Table>
          {playbooks.length === 0 && <p className="text-sm text-slate-500">No playbooks.</p>}
        </Card>
        <div className="grid gap-6 lg:grid-cols-3">
          <div className="lg:col-span-2">
            <Card title="New playbook" description={canEdit ? "Changing how Gatehouse responds is policy: admins, with a recent MFA verification." : "The policies do not let you change playbooks."}>
              <PlaybookForm action={savePlaybookAction} readOnly={!canEdit} initial={{ id: null, name: "", enabled: true, triggerType: "account_takeover", minSeverity: "high", stepsJson: '[\n  {"kind": "terminate_sessions", "critical": true}\n]' }} />
            </Card>
          </div>
          <Card title="Step kinds"><StepReference /></Card>
        </div>
      </div>
    </>
  );
}
