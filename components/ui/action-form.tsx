"use client";
import { useActionState, useRef } from "react";
import type { ActionState } from "@/lib/auth/action";
import { Button, type ButtonProps } from "./button";
import { FormMessage } from "./form-message";

/**
 * A one-button form for a server action (revoke, disable, run, …). It shows a failure, and with
 * `showSuccess` what a successful run reports too. `confirm` asks first, for actions a user would
 * regret; `askReason` asks why (sent as the field "reason", for the audit trail) and sends nothing
 * without an answer.
 */
export function ActionButton({
  action,
  fields,
  label,
  pendingLabel,
  confirm,
  askReason,
  variant = "secondary",
  size = "sm",
  showSuccess = false,
}: {
  action: (prev: ActionState, formData: FormData) => Promise<ActionState>;
  fields?: Record<string, string>;
  label: string;
  pendingLabel?: string;
  confirm?: string;
  askReason?: string;
  variant?: ButtonProps["variant"];
  size?: ButtonProps["size"];
  showSuccess?: boolean;
}) {
  const [state, formAction, pending] = useActionState(action, {});
  const reason = useRef<HTMLInputElement>(null);
  const fieldProblems = [...new Set(Object.values(state.fieldErrors ?? {}).flat())];
  return (
    <form
      action={formAction}
      onSubmit={(event) => {
        if (confirm && !window.confirm(confirm)) return event.preventDefault();
        if (!askReason) return;
        const answer = window.prompt(askReason)?.trim();
        if (!answer) return event.preventDefault();
        reason.current!.value = answer;
      }}
      className="inline-flex flex-col items-end gap-1"
    >
      {askReason && <input ref={reason} type="hidden" name="reason" />}
      {Object.entries(fields ?? {}).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <Button type="submit" variant={variant} size={size} disabled={pending}>
        {pending ? (pendingLabel ?? label) : label}
      </Button>
      {/* A button has no visible fields: what was wrong with its hidden ones (the prompted reason) is the message. */}
      {state.message && (!state.ok || showSuccess) && <FormMessage state={fieldProblems.length ? { ...state, message: fieldProblems.join(" ") } : state} />}
    </form>
  );
}
