"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { addIpRuleAction } from "../actions";

export function IpRuleForm() {
  const [state, action, pending] = useActionState(addIpRuleAction, {});
  return (
    <form action={action} className="space-y-4" noValidate>
      <FormMessage state={state} />
      <div className="grid gap-4 sm:grid-cols-4">
        <Field label="IP address or range" name="cidr" placeholder="203.0.113.0/24" required errors={state.fieldErrors?.cidr} defaultValue={echoed(state, "cidr")} />
        <div className="space-y-1">
          <label htmlFor="field-kind" className="block text-sm font-medium text-slate-700">List</label>
          <select key={echoed(state, "kind") ?? "block"} id="field-kind" name="kind" defaultValue={echoed(state, "kind") ?? "block"} className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
            <option value="block">Block: refuse every sign-in from it</option>
            <option value="allow">Allow: lower the risk (office, VPN)</option>
          </select>
        </div>
        <Field label="Reason" name="note" required maxLength={200} errors={state.fieldErrors?.note} defaultValue={echoed(state, "note")} />
        <Field label="For how many hours (empty: until removed)" name="hours" type="number" min="0" errors={state.fieldErrors?.hours} defaultValue={echoed(state, "hours")} />
      </div>
      <Button type="submit" disabled={pending}>{pending ? "Adding…" : "Add rule"}</Button>
    </form>
  );
}
