"use client";
import { useActionState } from "react";
import type { ActionState } from "@/lib/auth/action";
import { FormMessage } from "@/components/ui/form-message";
import { useFollowRedirect } from "@/components/ui/follow-redirect";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;

/** A form whose action sends the browser on to the provider (components/ui/follow-redirect.ts). */
export function InteractionForm({ action, children, className }: { action: Action; children: React.ReactNode; className?: string }) {
  const [state, formAction, pending] = useActionState(action, {});
  useFollowRedirect(state);
  return (
    <form action={formAction}>
      {/* One answer per page: a second click while the first is on its way (or the browser is being sent on) does nothing. */}
      <fieldset disabled={pending || state.ok === true} className={className}>
        {!state.ok && <FormMessage state={state} />}
        {children}
      </fieldset>
    </form>
  );
}
