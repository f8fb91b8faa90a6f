"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { NewPasswordFields } from "@/components/new-password-fields";
import { createFirstAdminAction } from "./actions";

export function SetupForm({ token }: { token: string }) {
  const [state, action, pending] = useActionState(createFirstAdminAction, {});
  return (
    <form action={action} className="space-y-4" noValidate>
      <FormMessage state={state} />
      <input type="hidden" name="token" value={token} />
      <Field label="Your name" name="name" autoComplete="name" required errors={state.fieldErrors?.name} defaultValue={echoed(state, "name")} />
      <Field label="Email" name="email" type="email" autoComplete="username" required errors={state.fieldErrors?.email} defaultValue={echoed(state, "email")} />
      <NewPasswordFields state={state} hint="At least 12 characters and hard to guess. A passphrase of a few unrelated words is easiest." />
      <Button type="submit" className="w-full" disabled={pending}>
        {pending ? "Creating…" : "Create admin account"}
      </Button>
    </form>
  );
}
