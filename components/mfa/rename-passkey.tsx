"use client";
import { useActionState, useState } from "react";
import type { ActionState } from "@/lib/auth/action";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { FormMessage } from "@/components/ui/form-message";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;

export function RenamePasskey({ action, passkeyId, name }: { action: Action; passkeyId: string; name: string }) {
  const [editing, setEditing] = useState(false);
  const [state, rename, pending] = useActionState(async (previous: ActionState, form: FormData) => {
    const answer = await action(previous, form);
    // A saved name closes the form; "Rename" opens it again for the next change.
    if (answer.ok) setEditing(false);
    return answer;
  }, {});
  if (!editing) {
    return (
      <Button type="button" size="sm" variant="ghost" onClick={() => setEditing(true)}>
        Rename
      </Button>
    );
  }
  return (
    <form action={rename} className="inline-flex items-center gap-1">
      <input type="hidden" name="passkeyId" value={passkeyId} />
      <input name="name" defaultValue={echoed(state, "name") ?? name} maxLength={60} aria-label="New name" className="rounded border border-slate-300 px-2 py-1 text-xs" autoFocus />
      <Button type="submit" size="sm" disabled={pending}>
        Save
      </Button>
      {state.fieldErrors?.name ? <p className="text-xs text-red-700" role="alert">{state.fieldErrors.name[0]}</p> : state.message && <FormMessage state={state} />}
    </form>
  );
}
