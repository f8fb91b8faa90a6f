"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { changeEmailAction, deleteUserAction } from "../actions";

export function ChangeEmailForm({ userId, email }: { userId: string; email: string }) {
  const [state, action, pending] = useActionState(changeEmailAction, {});
  return (
    <form action={action} className="space-y-3" noValidate>
      <FormMessage state={state} />
      <input type="hidden" name="userId" value={userId} />
      <Field
        label="Sign-in email"
        name="email"
        type="email"
        autoComplete="off"
        defaultValue={echoed(state, "email") ?? email}
        hint="Recovery links and security notices go here. The previous address is told of the change."
        errors={state.fieldErrors?.email}
        required
      />
      <Button type="submit" variant="secondary" disabled={pending}>
        {pending ? "Saving…" : "Change email"}
      </Button>
    </form>
  );
}

export function DeleteAccountForm({ userId, email }: { userId: string; email: string }) {
  const [state, action, pending] = useActionState(deleteUserAction, {});
  return (
    <form action={action} className="space-y-3" noValidate>
      <FormMessage state={state} />
      <input type="hidden" name="userId" value={userId} />
      <Field
        label="Type the account's email to confirm"
        name="confirmEmail"
        autoComplete="off"
        placeholder={email}
        errors={state.fieldErrors?.confirmEmail}
        required
      />
      <Button type="submit" variant="danger" disabled={pending}>
        {pending ? "Deleting…" : "Delete account"}
      </Button>
    </form>
  );
}
