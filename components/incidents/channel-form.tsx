"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import type { ActionState } from "@/lib/auth/action";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;

export function ChannelForm({ action }: { action: Action }) {
  const [state, formAction, pending] = useActionState(action, {});
  const secret = state.ok ? (state.data as { secret?: string } | undefined)?.secret : undefined;
  return (
    <form action={formAction} className="space-y-4" noValidate aria-label="New channel">
      <FormMessage state={state} />
      {secret && (
        <div className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="webhook-secret">
          <p className="font-medium">The webhook&apos;s signing secret, shown once: give it to the receiver now.</p>
          <code className="break-all font-mono text-xs">{secret}</code>
        </div>
      )}
      <div className="grid gap-4 sm:grid-cols-3">
        <Field label="Name" name="name" required maxLength={60} errors={state.fieldErrors?.name} defaultValue={echoed(state, "name")} />
        <div className="space-y-1">
          <label htmlFor="field-kind" className="block text-sm font-medium text-slate-700">Kind</label>
          <select key={echoed(state, "kind") ?? "webhook"} id="field-kind" name="kind" defaultValue={echoed(state, "kind") ?? "webhook"} className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
            <option value="webhook">Webhook (HMAC-signed POST)</option>
            <option value="email">Email (SMTP)</option>
          </select>
        </div>
        <Field label="URL or email address" name="target" required maxLength={500} errors={state.fieldErrors?.target} defaultValue={echoed(state, "target")} />
      </div>
      <Button type="submit" disabled={pending}>Add channel</Button>
    </form>
  );
}
