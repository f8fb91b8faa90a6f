"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { FormMessage } from "@/components/ui/form-message";
import type { ActionState } from "@/lib/auth/action";

const control = "rounded-md border border-slate-300 bg-white px-2 py-1 text-sm";

/** One account's decision in an open access review: keep, remove roles and groups, or disable; a removal says why. */
export function AccessDecisionForm({ action, reviewId, userId, email, decision, note, options }: {
  action: (prev: ActionState, formData: FormData) => Promise<ActionState>;
  reviewId: string;
  userId: string;
  email: string;
  decision: string | null;
  note: string | null;
  options: { value: string; label: string }[];
}) {
  const [state, formAction, pending] = useActionState(action, {});
  const errors = state.fieldErrors ?? {};
  return (
    <form action={formAction} className="flex flex-col gap-1" aria-label={`Decide on ${email}`}>
      <input type="hidden" name="reviewId" value={reviewId} />
      <input type="hidden" name="userId" value={userId} />
      <div className="flex flex-wrap items-center gap-2">
        <select key={echoed(state, "decision") ?? decision ?? ""} name="decision" aria-label="Decision" defaultValue={echoed(state, "decision") ?? decision ?? ""} className={control} required>
          <option value="" disabled>Decide…</option>
          {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
        <input name="note" aria-label="Why" placeholder="Why (needed to remove)" maxLength={1000} defaultValue={echoed(state, "note") ?? note ?? ""} className={`${control} w-48`} />
        <Button type="submit" size="sm" variant="secondary" disabled={pending}>{pending ? "Saving…" : "Save"}</Button>
      </div>
      {(errors.note || errors.decision) && <p className="text-xs text-red-700">{(errors.note ?? errors.decision)![0]}</p>}
      {state.message && !state.fieldErrors && !state.ok && <FormMessage state={state} />}
    </form>
  );
}
