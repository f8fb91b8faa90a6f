"use client";
import Link from "next/link";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { echoed } from "@/components/ui/echoed";
import { requestRecoveryAction } from "./actions";

export function RecoveryRequestForm() {
  const [state, action, pending] = useActionState(requestRecoveryAction, {});
  if (state.ok) {
    return (
      <div className="space-y-4">
        <FormMessage state={state} />
        <Link href="/sign-in" className="inline-block text-sm font-medium text-brand-700 hover:underline">
          Back to sign in
        </Link>
      </div>
    );
  }
  return (
    <form action={action} className="space-y-4" noValidate>
      <FormMessage state={state} />
      <Field label="Email" name="email" type="email" autoComplete="username" required autoFocus defaultValue={echoed(state, "email")} errors={state.fieldErrors?.email} />
      <Button type="submit" className="w-full" disabled={pending}>
        {pending ? "Sending…" : "Email me a link"}
      </Button>
      <Link href="/sign-in" className="inline-block text-sm text-slate-600 underline">
        Back to sign in
      </Link>
    </form>
  );
}
