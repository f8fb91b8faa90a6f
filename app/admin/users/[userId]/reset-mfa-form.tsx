"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { echoed } from "@/components/ui/echoed";
import { resetMfaAction } from "../actions";

export function ResetMfaForm({ userId }: { userId: string }) {
  const [state, action, pending] = useActionState(resetMfaAction, {});
  return (
    <form
      action={action}
      onSubmit={(event) => {
        if (!window.confirm("Remove all of this user's second factors?")) event.preventDefault();
      }}
      className="space-y-3"
      noValidate
    >
      <FormMessage state={state} />
      <input type="hidden" name="userId" value={userId} />
      <Field label="Reason" name="reason" hint="For example the support ticket and how the user's identity was checked." errors={state.fieldErrors?.reason} defaultValue={echoed(state, "reason")} required />
      <Button type="submit" variant="danger" disabled={pending}>
        {pending ? "Resetting…" : "Reset MFA"}
      </Button>
    </form>
  );
}
