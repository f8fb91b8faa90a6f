"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { NewPasswordFields } from "@/components/new-password-fields";
import { FormMessage } from "@/components/ui/form-message";
import { useFollowRedirect } from "@/components/ui/follow-redirect";
import { chooseNewPasswordAction } from "./actions";

export function NewPasswordForm({ email, callbackUrl, minLength }: { email: string; callbackUrl: string; minLength: number }) {
  const [state, action, pending] = useActionState(chooseNewPasswordAction, {});
  const leaving = useFollowRedirect(state);
  return (
    <form action={action} className="space-y-4" noValidate>
      {!state.ok && <FormMessage state={state} />}
      {/* For password managers: which account the new password belongs to. */}
      <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
      <NewPasswordFields state={state} autoFocus hint={`At least ${minLength} characters, hard to guess and not your current password. Your other sessions will be signed out.`} />
      <input type="hidden" name="callbackUrl" value={callbackUrl} />
      <Button type="submit" className="w-full" disabled={pending || leaving}>
        {pending || leaving ? "Saving…" : "Set new password"}
      </Button>
    </form>
  );
}
