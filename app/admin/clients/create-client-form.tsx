"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { FormMessage } from "@/components/ui/form-message";
import { createClientAction } from "./actions";
import { ClientFields, NEW_CLIENT } from "./client-fields";
import { ShownOnce } from "./shown-once";

export function CreateClientForm() {
  const [state, action, pending] = useActionState(createClientAction, {});
  const created = state.ok ? (state.data as { clientId: string; clientSecret: string | null }) : null;
  return (
    <div className="space-y-4">
      <FormMessage state={state} />
      {created && <ShownOnce clientId={created.clientId} clientSecret={created.clientSecret} />}
      <form action={action} className="grid max-w-2xl gap-4" noValidate>
        <ClientFields state={state} initial={NEW_CLIENT} typeField={<TypeChoice type={echoed(state, "type")} />} />
        <div>
          <Button type="submit" disabled={pending}>
            {pending ? "Creating…" : "Create client"}
          </Button>
        </div>
      </form>
    </div>
  );
}

function TypeChoice({ type }: { type: string | undefined }) {
  return (
    <fieldset className="space-y-1">
      <legend className="text-sm font-medium text-slate-700">Type</legend>
      <label className="mr-4 text-sm">
        <input type="radio" name="type" value="confidential" defaultChecked={type !== "public"} /> Confidential (has a secret: servers)
      </label>
      <label className="text-sm">
        <input type="radio" name="type" value="public" defaultChecked={type === "public"} /> Public (no secret: browser and native apps)
      </label>
    </fieldset>
  );
}
