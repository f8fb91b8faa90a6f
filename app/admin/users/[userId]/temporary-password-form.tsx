"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { setTemporaryPasswordAction } from "../actions";

export function TemporaryPasswordForm({ userId, minLength }: { userId: string; minLength: number }) {
  const [state, action, pending] = useActionState(setTemporaryPasswordAction, {});
  return (
    <form
      action={action}
      onSubmit={(event) => {
        if (!window.confirm("Replace this user's password with a temporary one and sign them out everywhere?")) event.preventDefault();
      }}
      className="space-y-3"
      noValidate
    >
      <FormMessage state={state} />
      <input type="hidden" name="userId" value={userId} />
      <Field
        label="Temporary password"
        name="temporaryPassword"
        type="password"
        autoComplete="new-password"
        hint={`At least ${minLength} characters. The user must choose their own at the next sign-in; a second factor is still asked.`}
        errors={state.fieldErrors?.temporaryPassword}
        required
      />
      <Button type="submit" variant="danger" disabled={pending}>
        {pending ? "Setting…" : "Set temporary password"}
      </Button>
    </form>
  );
}
