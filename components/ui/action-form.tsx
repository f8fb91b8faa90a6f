"use client";
import { useActionState } from "react";
import type { ActionState } from "@/lib/auth/action";
import { Button, type ButtonProps } from "./button";
import { FormMessage } from "./form-message";

/**
 * A one-button form for a server action (revoke, disable, run, …). It shows a failure, and with
 * `showSuccess` what a successful run reports too. `confirm` asks first, for actions a user would regret.
 */
export function ActionButton({
  action,
  fields,
  label,
  pendingLabel,
  confirm,
  variant = "secondary",
  size = "sm",
  showSuccess = false,
}: {
  action: (prev: ActionState, formData: FormData) => Promise<ActionState>;
  fields?: Record<string, string>;
  label: string;
  pendingLabel?: string;
  confirm?: string;
  variant?: ButtonProps["variant"];
  size?: ButtonProps["size"];
  showSuccess?: boolean;
}) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form
      action={formAction}
      onSubmit={(event) => {
        if (confirm && !window.confirm(confirm)) event.preventDefault();
      }}
      className="inline-flex flex-col items-end gap-1"
    >
      {Object.entries(fields ?? {}).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <Button type="submit" variant={variant} size={size} disabled={pending}>
        {pending ? (pendingLabel ?? label) : label}
      </Button>
      {state.message && (!state.ok || showSuccess) && <FormMessage state={state} />}
    </form>
  );
}
