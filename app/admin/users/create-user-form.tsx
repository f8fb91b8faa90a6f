"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed, echoedAll, echoedTicked } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { RoleCheckboxes } from "@/components/role-checkboxes";
import { createUserAction } from "./actions";

export function CreateUserForm() {
  const [state, action, pending] = useActionState(createUserAction, {});
  return (
    <form action={action} className="grid max-w-xl gap-4" noValidate>
      <FormMessage state={state} />
      <Field label="Email" name="email" type="email" required errors={state.fieldErrors?.email} defaultValue={echoed(state, "email")} autoComplete="off" />
      <Field label="Name" name="name" required errors={state.fieldErrors?.name} defaultValue={echoed(state, "name")} autoComplete="off" />
      <Field label="Initial password" name="password" type="password" required autoComplete="new-password" hint="At least 12 characters and hard to guess." errors={state.fieldErrors?.password} />
      <label className="flex items-start gap-2 text-sm">
        <input type="checkbox" name="replaceAtFirstSignIn" defaultChecked={echoedTicked(state, "replaceAtFirstSignIn", true)} className="mt-0.5" />
        <span>
          Ask for a new password at first sign-in
          <span className="block text-xs text-slate-500">You know this one: the user replaces it with their own before they get in.</span>
        </span>
      </label>
      <RoleCheckboxes errors={state.fieldErrors?.roles} selected={echoedAll(state, "roles")} />
      <div>
        <Button type="submit" disabled={pending}>
          {pending ? "Creating…" : "Create user"}
        </Button>
      </div>
    </form>
  );
}
