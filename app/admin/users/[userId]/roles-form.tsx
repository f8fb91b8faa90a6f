"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/form-message";
import { Field } from "@/components/ui/field";
import { echoed } from "@/components/ui/echoed";
import { RoleCheckboxes } from "@/components/role-checkboxes";
import { setRolesAction } from "../actions";

export function RolesForm({ userId, roles }: { userId: string; roles: string[] }) {
  const [state, action, pending] = useActionState(setRolesAction, {});
  return (
    <form action={action} className="space-y-4">
      <FormMessage state={state} />
      <input type="hidden" name="userId" value={userId} />
      <RoleCheckboxes selected={roles} errors={state.fieldErrors?.roles} />
      <Field id="roles-reason" label="Why the roles change" name="reason" required maxLength={500} hint="A ticket number or a few words: it goes into the audit trail with the change." errors={state.fieldErrors?.reason} defaultValue={echoed(state, "reason")} />
      <Button type="submit" disabled={pending}>
        Save roles
      </Button>
    </form>
  );
}
