"use client";
import { useActionState, useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { FormMessage } from "@/components/ui/form-message";
import type { ActionState } from "@/lib/auth/action";
import { STATUSES, STATUS_LABELS } from "@/lib/incidents/model";

// The analyst's forms on an incident page. Every change asks for a reason, which goes into the
// timeline and the audit trail.

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;
const input = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";
const label = "block text-sm font-medium text-slate-700";

function Reason({ state }: { state: ActionState }) {
  // Several forms on one page each have a reason: each field needs its own id.
  const id = useId();
  return (
    <div className="space-y-1">
      <label htmlFor={id} className={label}>Reason</label>
      <input id={id} name="reason" required maxLength={500} className={input} defaultValue={echoed(state, "reason")} />
      {state.fieldErrors?.reason && <p className="text-xs text-red-700">{state.fieldErrors.reason[0]}</p>}
    </div>
  );
}

export function StatusForm({ action, incidentId, status }: { action: Action; incidentId: string; status: string }) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form action={formAction} className="space-y-3" aria-label="Change status">
      <FormMessage state={state} />
      <input type="hidden" name="incidentId" value={incidentId} />
      <div className="space-y-1">
        <label htmlFor="field-status" className={label}>Status</label>
        <select id="field-status" name="status" defaultValue={status} className={input}>
          {STATUSES.map((s) => <option key={s} value={s}>{STATUS_LABELS[s]}</option>)}
        </select>
      </div>
      <Reason state={state} />
      <Button type="submit" size="sm" disabled={pending}>Change status</Button>
    </form>
  );
}

export function AssignForm({ action, incidentId, assignee, responders }: { action: Action; incidentId: string; assignee: string | null; responders: string[] }) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form action={formAction} className="space-y-3" aria-label="Assign">
      <FormMessage state={state} />
      <input type="hidden" name="incidentId" value={incidentId} />
      <div className="space-y-1">
        <label htmlFor="field-assignee" className={label}>Assignee</label>
        <select id="field-assignee" name="assignee" defaultValue={assignee ?? ""} className={input}>
          <option value="">Nobody</option>
          {responders.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </div>
      <Reason state={state} />
      <Button type="submit" size="sm" disabled={pending}>Assign</Button>
    </form>
  );
}

export function NoteForm({ action, incidentId }: { action: Action; incidentId: string }) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form action={formAction} className="space-y-3" aria-label="Add a note">
      <FormMessage state={state} />
      <input type="hidden" name="incidentId" value={incidentId} />
      <label htmlFor="field-text" className="sr-only">Note</label>
      <textarea id="field-text" name="text" rows={3} maxLength={5000} required placeholder="What you found, what you did, what is next." className={input} />
      {state.fieldErrors?.text && <p className="text-xs text-red-700">{state.fieldErrors.text[0]}</p>}
      <Button type="submit" size="sm" disabled={pending}>Add note</Button>
    </form>
  );
}

const RESPONSES = [
  { kind: "terminate_sessions", label: "End the affected users' sessions" },
  { kind: "revoke_tokens", label: "Revoke their tokens and grants" },
  { kind: "lock_accounts", label: "Lock their accounts" },
  { kind: "require_password_reset", label: "Require a new password" },
  { kind: "require_mfa_reenrollment", label: "Remove their second factors (re-enroll)" },
  { kind: "block_ip", label: "Block the incident's IPs" },
  { kind: "notify", label: "Notify a channel" },
  { kind: "escalate", label: "Escalate to a person" },
] as const;

export function ResponseForm({ action, incidentId, channels, responders }: { action: Action; incidentId: string; channels: string[]; responders: string[] }) {
  const [state, formAction, pending] = useActionState(action, {});
  const [kind, setKind] = useState<string>(echoed(state, "kind") ?? "terminate_sessions");
  return (
    <form action={formAction} className="space-y-3" aria-label="Respond">
      <FormMessage state={state} />
      <input type="hidden" name="incidentId" value={incidentId} />
      <div className="space-y-1">
        <label htmlFor="field-kind" className={label}>Action</label>
        <select id="field-kind" name="kind" value={kind} onChange={(e) => setKind(e.target.value)} className={input}>
          {RESPONSES.map((r) => <option key={r.kind} value={r.kind}>{r.label}</option>)}
        </select>
      </div>
      {kind === "block_ip" && (
        <div className="grid grid-cols-2 gap-3">
          <label className="space-y-1"><span className={label}>Hours</span><input name="hours" type="number" min={1} defaultValue={24} className={input} /></label>
          <label className="space-y-1"><span className={label}>Scope</span><select name="scope" className={input}><option value="ip">The address</option><option value="network">Its /24 or /48 network</option></select></label>
        </div>
      )}
      {kind === "lock_accounts" && <label className="block space-y-1"><span className={label}>Minutes</span><input name="minutes" type="number" min={1} defaultValue={60} className={input} /></label>}
      {(kind === "notify" || kind === "escalate") && (
        <label className="block space-y-1">
          <span className={label}>Channel{kind === "escalate" ? " (optional)" : ""}</span>
          <select name="channel" className={input} defaultValue="">
            {kind === "escalate" && <option value="">None</option>}
            {channels.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
        </label>
      )}
      {kind === "escalate" && (
        <label className="block space-y-1"><span className={label}>Person</span><select name="assignee" className={input}>{responders.map((r) => <option key={r} value={r}>{r}</option>)}</select></label>
      )}
      {state.fieldErrors?.step && <p role="alert" className="text-xs text-red-700">Check the action&apos;s settings: {state.fieldErrors.step.join(" ")}</p>}
      <Reason state={state} />
      <Button type="submit" size="sm" variant="danger" disabled={pending}>{pending ? "Working…" : "Run action"}</Button>
    </form>
  );
}

export function CaptureForm({ action, incidentId }: { action: Action; incidentId: string }) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form action={formAction} className="space-y-3" aria-label="Capture evidence">
      <FormMessage state={state} />
      <input type="hidden" name="incidentId" value={incidentId} />
      <Reason state={state} />
      <Button type="submit" size="sm" variant="secondary" disabled={pending}>Capture a snapshot now</Button>
    </form>
  );
}
