"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { Field, TextAreaField } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import type { ActionState } from "@/lib/auth/action";

const input = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";

/** Asks for an exception; it counts only once another admin approves it. */
export function ExceptionRequestForm({ action, controls, defaultControl }: {
  action: (prev: ActionState, formData: FormData) => Promise<ActionState>;
  controls: { id: string; title: string }[];
  defaultControl?: string;
}) {
  const [state, formAction, pending] = useActionState(action, {});
  const errors = state.fieldErrors ?? {};
  return (
    <form action={formAction} className="space-y-3" aria-label="Request an exception">
      <FormMessage state={state} />
      <div className="space-y-1">
        <label htmlFor="exception-control" className="block text-sm font-medium text-slate-700">Control</label>
        <select key={echoed(state, "control") ?? defaultControl} id="exception-control" name="control" className={input} defaultValue={echoed(state, "control") ?? defaultControl}>
          {controls.map((c) => <option key={c.id} value={c.id}>{c.id} — {c.title}</option>)}
        </select>
        {errors.control && <p className="text-xs text-red-700">{errors.control[0]}</p>}
      </div>
      <TextAreaField label="Justification" name="justification" maxLength={2000} required defaultValue={echoed(state, "justification")} errors={errors.justification} />
      <Field label="Expires on" name="expiresAt" type="date" required defaultValue={echoed(state, "expiresAt")} errors={errors.expiresAt} hint="At most a year. The control fails again from this date (UTC)." />
      <Button type="submit" size="sm" disabled={pending}>{pending ? "Requesting…" : "Request exception"}</Button>
    </form>
  );
}
