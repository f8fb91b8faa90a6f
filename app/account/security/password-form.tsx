"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoedTicked } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { NewPasswordFields } from "@/components/new-password-fields";
import { FormMessage } from "@/components/ui/form-message";
import { changePasswordAction } from "../actions";

export function PasswordForm({ minLength }: { minLength: number }) {
  const [state, action, pending] = useActionState(changePasswordAction, {});
  return (
    <form action={action} className="max-w-md space-y-4" noValidate key={state.ok ? "done" : "editing"}>
      <FormMessage state={state} />
      <Field label="Current password" name="currentPassword" type="password" autoComplete="current-password" required errors={state.fieldErrors?.currentPassword} />
      <NewPasswordFields state={state} hint={`At least ${minLength} characters and hard to guess: a few unrelated words work well. Changing it signs out your other sessions.`} />
      <label className="flex items-start gap-2 text-sm">
        <input type="checkbox" name="disconnectApps" className="mt-1" defaultChecked={echoedTicked(state, "disconnectApps", false)} />
        <span>
          Also disconnect every app I let in
          <span className="block text-slate-500">If someone else may have known your password: their tokens stop working, and apps ask you to sign in again.</span>
        </span>
      </label>
      <Button type="submit" disabled={pending}>
        Change password
      </Button>
    </form>
  );
}
