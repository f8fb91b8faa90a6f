"use client";
import { useActionState, useEffect } from "react";
import type { ActionState } from "@/lib/auth/action";
import { FormMessage } from "@/components/ui/form-message";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;

/** A form whose action answers with the provider URL to continue at; the browser goes there. */
export function InteractionForm({ action, children, className }: { action: Action; children: React.ReactNode; className?: string }) {
  const [state, formAction] = useActionState(action, {});
  const returnTo = state.ok ? (state.data as { returnTo: string }).returnTo : null;
  useEffect(() => {
    if (returnTo) window.location.assign(returnTo);
  }, [returnTo]);
  return (
    <form action={formAction} className={className}>
      {!state.ok && <FormMessage state={state} />}
      {children}
    </form>
  );
}
