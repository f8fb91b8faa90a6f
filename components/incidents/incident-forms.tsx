"use client";
import { useActionState, useId, useState, type ReactNode } from "react";
import { Button, type ButtonProps } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { Field, TextAreaField } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import type { ActionState } from "@/lib/auth/action";
import { STATUSES, STATUS_LABELS, STEP_KINDS, STEP_LABELS } from "@/lib/incidents/model";

// The analyst's forms on an incident page. Every change but a note asks for a reason, which goes
// into the timeline and the audit trail.

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;
const input = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";
const label = "block text-sm font-medium text-slate-700";

/** One form on the incident page: the action's outcome, the incident id, its fields, a reason and the button. */
function IncidentForm({ action, incidentId, name, submit, variant, reason = true, children }: {
  action: Action; incidentId: string; name: string; submit: string; variant?: ButtonProps["variant"]; reason?: boolean;
  children?: (state: ActionState) => ReactNode;
}) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form action={formAction} className="space-y-3" aria-label={name}>
      <FormMessage state={state} />
      <input type="hidden" name="incidentId" value={incidentId} />
      {children?.(state)}
      {reason && <Reason state={state} />}
      <Button type="submit" size="sm" variant={variant} disabled={pending}>{pending ? "Working…" : submit}</Button>
    </form>
  );
}

function Reason({ state }: { state: ActionState }) {
  // Several forms on one page each have a reason: each field needs its own id.
  return <Field id={useId()} label="Reason" name="reason" required maxLength={500} defaultValue={echoed(state, "reason")} errors={state.fieldErrors?.reason} />;
}

function Select({ label: text, name, options, defaultValue }: { label: string; name: string; options: { value: string; label: string }[]; defaultValue?: string }) {
  const id = useId();
  return (
    <div className="space-y-1">
      <label htmlFor={id} className={label}>{text}</label>
      <select key={defaultValue} id={id} name={name} defaultValue={defaultValue} className={input}>
        {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
    </div>
  );
}

const asOptions = (values: string[]) => values.map((v) => ({ value: v, label: v }));

export function StatusForm({ action, incidentId, status }: { action: Action; incidentId: string; status: string }) {
  return (
    <IncidentForm action={action} incidentId={incidentId} name="Change status" submit="Change status">
      {(state) => <Select label="Status" name="status" defaultValue={echoed(state, "status") ?? status} options={STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s] }))} />}
    </IncidentForm>
  );
}

export function AssignForm({ action, incidentId, assignee, responders }: { action: Action; incidentId: string; assignee: string | null; responders: string[] }) {
  return (
    <IncidentForm action={action} incidentId={incidentId} name="Assign" submit="Assign">
      {(state) => <Select label="Assignee" name="assignee" defaultValue={echoed(state, "assignee") ?? assignee ?? ""} options={[{ value: "", label: "Nobody" }, ...asOptions(responders)]} />}
    </IncidentForm>
  );
}

export function NoteForm({ action, incidentId }: { action: Action; incidentId: string }) {
  return (
    <IncidentForm action={action} incidentId={incidentId} name="Add a note" submit="Add note" reason={false}>
      {(state) => (
        <>
          <TextAreaField label="Note" srOnlyLabel name="text" maxLength={5000} required placeholder="What you found, what you did, what is next." errors={state.fieldErrors?.text} defaultValue={echoed(state, "text")} />
        </>
      )}
    </IncidentForm>
  );
}

export function CaptureForm({ action, incidentId }: { action: Action; incidentId: string }) {
  return <IncidentForm action={action} incidentId={incidentId} name="Capture evidence" submit="Capture a snapshot now" variant="secondary" />;
}

export function ResponseForm({ action, incidentId, channels, responders }: { action: Action; incidentId: string; channels: string[]; responders: string[] }) {
  return (
    <IncidentForm action={action} incidentId={incidentId} name="Respond" submit="Run action" variant="danger">
      {(state) => <ResponseFields state={state} channels={channels} responders={responders} />}
    </IncidentForm>
  );
}

/** The response's kind and the one or two settings that kind needs. */
function ResponseFields({ state, channels, responders }: { state: ActionState; channels: string[]; responders: string[] }) {
  const [kind, setKind] = useState<string>(echoed(state, "kind") ?? "terminate_sessions");
  const id = useId();
  return (
    <>
      <div className="space-y-1">
        <label htmlFor={id} className={label}>Action</label>
        <select id={id} name="kind" value={kind} onChange={(e) => setKind(e.target.value)} className={input}>
          {STEP_KINDS.map((k) => <option key={k} value={k}>{STEP_LABELS[k]}</option>)}
        </select>
      </div>
      {kind === "block_ip" && (
        <div className="grid grid-cols-2 gap-3">
          <label className="space-y-1"><span className={label}>Hours</span><input name="hours" type="number" min={1} defaultValue={echoed(state, "hours") ?? 24} className={input} /></label>
          <Select label="Scope" name="scope" defaultValue={echoed(state, "scope")} options={[{ value: "ip", label: "The address (IPv6: its /64)" }, { value: "network", label: "Its /24 or /48 network" }]} />
        </div>
      )}
      {kind === "lock_accounts" && <label className="block space-y-1"><span className={label}>Minutes</span><input name="minutes" type="number" min={1} defaultValue={echoed(state, "minutes") ?? 60} className={input} /></label>}
      {(kind === "notify" || kind === "escalate") && (
        <Select label={kind === "escalate" ? "Channel (optional)" : "Channel"} name="channel" defaultValue={echoed(state, "channel") ?? ""} options={[...(kind === "escalate" ? [{ value: "", label: "None" }] : []), ...asOptions(channels)]} />
      )}
      {kind === "escalate" && <Select label="Person" name="assignee" defaultValue={echoed(state, "assignee")} options={asOptions(responders)} />}
      {state.fieldErrors?.step && <p role="alert" className="text-xs text-red-700">Check the action&apos;s settings: {state.fieldErrors.step.join(" ")}</p>}
    </>
  );
}
