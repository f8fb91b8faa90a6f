"use client";
import { useActionState } from "react";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { Button } from "@/components/ui/button";
import { echoed, echoedTicked, echoingSent } from "@/components/ui/echoed";
import { Field, TextAreaField } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import type { ActionState } from "@/lib/auth/action";
import { INCIDENT_TYPES, INCIDENT_TYPE_LABELS, SEVERITIES } from "@/lib/incidents/model";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;
const input = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";
const label = "block text-sm font-medium text-slate-700";

export type PlaybookFormValues = { id: string | null; name: string; enabled: boolean; triggerType: string; minSeverity: string; stepsJson: string };

/** Creates a playbook or saves a new version of one. Steps are JSON (the page lists the step kinds). */
export function PlaybookForm({ action, initial, readOnly }: { action: Action; initial: PlaybookFormValues; readOnly: boolean }) {
  const [state, formAction, pending] = useActionState(action, {});
  const router = useRouter();
  const createdId = state.ok && !initial.id ? (state.data as { id?: string } | undefined)?.id : undefined;
  useEffect(() => {
    if (createdId) router.push(`/admin/incidents/playbooks/${createdId}`);
  }, [createdId, router]);
  const errors = state.fieldErrors ?? {};
  return (
    <form action={formAction} className="space-y-4" noValidate aria-label="Playbook">
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="space-y-4">
        <input type="hidden" name="id" value={initial.id ?? ""} />
        <div className="grid gap-4 sm:grid-cols-3">
          <Field label="Name" name="name" required maxLength={80} errors={errors.name} defaultValue={echoed(state, "name") ?? initial.name} />
          <div className="space-y-1">
            <label htmlFor="field-triggerType" className={label}>Runs for incidents of type</label>
            <select key={echoed(state, "triggerType") ?? initial.triggerType} id="field-triggerType" name="triggerType" defaultValue={echoed(state, "triggerType") ?? initial.triggerType} className={input}>
              {INCIDENT_TYPES.map((t) => <option key={t} value={t}>{INCIDENT_TYPE_LABELS[t]}</option>)}
            </select>
          </div>
          <div className="space-y-1">
            <label htmlFor="field-minSeverity" className={label}>At severity at least</label>
            <select key={echoed(state, "minSeverity") ?? initial.minSeverity} id="field-minSeverity" name="minSeverity" defaultValue={echoed(state, "minSeverity") ?? initial.minSeverity} className={input}>
              {SEVERITIES.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </div>
        </div>
        <label className="flex items-center gap-2 text-sm"><input type="checkbox" name="enabled" defaultChecked={echoedTicked(state, "enabled", initial.enabled)} /> Enabled (runs automatically)</label>
        <TextAreaField label="Steps (JSON, in order)" name="stepsJson" rows={10} spellCheck={false} mono defaultValue={echoed(state, "stepsJson") ?? initial.stepsJson} errors={errors.stepsJson} />
        <Field label="What changed and why" name="comment" required maxLength={500} errors={errors.comment} defaultValue={echoed(state, "comment")} />
        <Button type="submit" disabled={pending}>{pending ? "Saving…" : initial.id ? "Save new version" : "Create playbook"}</Button>
      </fieldset>
    </form>
  );
}

type DryStep = { index: number; kind: string; status: string; detail: string };

export function DryRunForm({ action, playbookId, incidents }: { action: Action; playbookId: string; incidents: { id: string; label: string }[] }) {
  // The incident asked about comes back with every answer, so the select names the incident the steps shown were tried against.
  const [state, formAction, pending] = useActionState(echoingSent(action), {});
  const steps = state.ok ? (state.data as DryStep[]) : [];
  const asked = echoed(state, "incidentId");
  if (incidents.length === 0) return <p className="text-sm text-slate-500">A dry run needs an incident to run against; there is none yet.</p>;
  return (
    <form action={formAction} className="space-y-3" aria-label="Dry run">
      <FormMessage state={state} />
      <input type="hidden" name="playbookId" value={playbookId} />
      <div className="space-y-1">
        <label htmlFor="field-incidentId" className={label}>Against incident</label>
        <select key={asked} id="field-incidentId" name="incidentId" defaultValue={asked} className={input}>
          {incidents.map((i) => <option key={i.id} value={i.id}>{i.label}</option>)}
        </select>
      </div>
      <Button type="submit" size="sm" variant="secondary" disabled={pending}>Dry run</Button>
      {steps.length > 0 && (
        <ol className="list-decimal space-y-1 pl-6 text-sm" data-testid="dry-run-result">
          {steps.map((s) => <li key={s.index}><span className="font-mono text-xs">{s.kind}</span> · {s.status}: {s.detail}</li>)}
        </ol>
      )}
    </form>
  );
}
