"use client";
import Link from "next/link";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { NewPasswordFields } from "@/components/new-password-fields";
import { FormMessage } from "@/components/ui/form-message";
import { resetPasswordAction } from "./actions";

export function ResetPasswordForm({ token, email, minLength }: { token: string; email: string; minLength: number }) {
  const [state, action, pending] = useActionState(resetPasswordAction, {});
  if (state.ok) {
    return (
      <div className="space-y-4">
        <FormMessage state={state} />
        <Link href="/sign-in" className="inline-block text-sm font-medium text-brand-700 hover:underline">
          Sign in
        </Link>
      </div>
    );
  }
  return (
    <form action={action} className="space-y-4" noValidate>
      <FormMessage state={state} />
      {/* For password managers: which account the new password belongs to. */}
      <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
      <input type="hidden" name="token" value={token} />
      <NewPasswordFields state={state} autoFocus hint={`At least ${minLength} characters and hard to guess. Every session of this account will be signed out.`} />
      <Button type="submit" className="w-full" disabled={pending}>
        {pending ? "Saving…" : "Set new password"}
      </Button>
    </form>
  );
}
