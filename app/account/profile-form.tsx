"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { updateProfileAction } from "./actions";

export function ProfileForm({ name }: { name: string }) {
  const [state, action, pending] = useActionState(updateProfileAction, {});
  return (
    <form action={action} className="max-w-md space-y-4" noValidate>
      <FormMessage state={state} />
      <Field label="Name" name="name" defaultValue={echoed(state, "name") ?? name} autoComplete="name" required errors={state.fieldErrors?.name} />
      <Button type="submit" disabled={pending}>
        Save
      </Button>
    </form>
  );
}
