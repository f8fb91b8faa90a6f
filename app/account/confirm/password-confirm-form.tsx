"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { useFollowRedirect } from "@/components/ui/follow-redirect";
import { confirmPasswordAction } from "./actions";

/** Step-up for a user with no second factor: the password once more. */
export function PasswordConfirmForm({ callbackUrl }: { callbackUrl: string }) {
  const [state, action, pending] = useActionState(confirmPasswordAction, {});
  useFollowRedirect(state);
  return (
    <form action={action} className="space-y-4" noValidate>
      <FormMessage state={state} />
      <p className="text-sm text-slate-700">You have no second factor, so confirm with your password. Setting up a passkey or an authenticator app makes this step stronger.</p>
      <input type="hidden" name="callbackUrl" value={callbackUrl} />
      <Field label="Password" name="password" type="password" autoComplete="current-password" required autoFocus errors={state.fieldErrors?.password} />
      <Button type="submit" disabled={pending}>
        Confirm
      </Button>
    </form>
  );
}
