"use client";
import { useActionState, type ReactNode } from "react";
import type { ActionState } from "@/lib/auth/action";
import { Button, type ButtonProps } from "./button";
import { FormMessage } from "./form-message";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;

/**
 * A form about one record (a user, a group): the action's outcome, the record's id as hidden
 * `fields`, the form's own fields and the button; `confirm` asks first.
 */
export function RecordForm({ action, fields, submit, pending: pendingLabel, variant, confirm, children }: {
  action: Action; fields: Record<string, string>; submit: string; pending: string; variant?: ButtonProps["variant"]; confirm?: string;
  children: (state: ActionState) => ReactNode;
}) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form
      action={formAction}
      onSubmit={(event) => {
        if (confirm && !window.confirm(confirm)) event.preventDefault();
      }}
      className="space-y-3"
      noValidate
    >
      <FormMessage state={state} />
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      {children(state)}
      <Button type="submit" variant={variant} disabled={pending}>
        {pending ? pendingLabel : submit}
      </Button>
    </form>
  );
}
