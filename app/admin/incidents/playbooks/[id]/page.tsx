import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { DryRunForm, PlaybookForm } from "@/components/incidents/playbook-forms";
import { LocalTime } from "@/components/ui/local-time";
import { canAccessAfterStepUp, requireAccess, userEmails } from "@/lib/auth";
import { INCIDENT_TYPE_LABELS, findPlaybook, listIncidents } from "@/lib/incidents";
import { dryRunAction, savePlaybookAction } from "../../actions";
import { IncidentsNav } from "../../incidents-nav";
import { StepReference } from "../step-reference";

export const metadata: Metadata = { title: "Playbook" };

export default async function PlaybookPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireAccess("incidents");
  const id = (await params).id;
  const playbook = z.uuid().safeParse(id).success ? await findPlaybook(id) : null;
  if (!playbook) notFound();
  const [canEdit, canManage, incidents, authors] = await Promise.all([
    canAccessAfterStepUp(user, { section: "policies", action: "manage" }),
    canAccessAfterStepUp(user, { section: "incidents", action: "manage" }),
    listIncidents({ status: "active" }, 50),
    userEmails(playbook.versions.flatMap((v) => (v.authorId ? [v.authorId] : []))),
  ]);
  const { current } = playbook;
  return (
    <>
      <PageHeader title={current.name} description={`v${current.version}: runs for ${INCIDENT_TYPE_LABELS[current.triggerType]} incidents at ${current.minSeverity} or worse${current.enabled ? "" : " (disabled)"}.`} />
      <IncidentsNav current="/admin/incidents/playbooks" />
      <p className="mb-4 text-sm"><Link className="text-brand-700 hover:underline" href="/admin/incidents/playbooks">← All playbooks</Link></p>
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-2">
          <Card title="Edit" description="Saving makes a new version; runs already started keep the version they started with.">
            <PlaybookForm
              action={savePlaybookAction}
              readOnly={!canEdit}
              initial={{ id: current.id, name: current.name, enabled: current.enabled, triggerType: current.triggerType, minSeverity: current.minSeverity, stepsJson: JSON.stringify(current.steps, null, 2) }}
            />
          </Card>
          <Card title="Versions">
            <ol className="space-y-2 text-sm">
              {playbook.versions.map((v) => (
                <li key={v.version} data-testid="playbook-version">
                  <span className="font-medium">v{v.version}</span> · <LocalTime at={v.updatedAt} /> · {v.authorId ? (authors.get(v.authorId) ?? "a deleted user") : "Gatehouse"}: {v.comment}
                  <p className="font-mono text-xs text-slate-500">{v.enabled ? "" : "(disabled) "}{v.steps.map((s) => s.kind).join(" → ")}</p>
                </li>
              ))}
            </ol>
          </Card>
        </div>
        <div className="space-y-6">
          <Card title="Dry run" description="What this version would do to an open incident now. Nothing is changed.">
            {canManage
              ? <DryRunForm action={dryRunAction} playbookId={current.id} incidents={incidents.map((i) => ({ id: i.id, label: `INC-${i.number} ${i.title}`.slice(0, 90) }))} />
              : <p className="text-sm text-slate-500">The policies do not let you run playbooks.</p>}
          </Card>
          <Card title="Step kinds"><StepReference /></Card>
        </div>
      </div>
    </>
  );
}
