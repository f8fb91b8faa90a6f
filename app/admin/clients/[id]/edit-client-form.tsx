"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/form-message";
import { updateClientAction } from "../actions";
import { ClientFields, type ClientFormValues } from "../client-fields";

export function EditClientForm({ clientId, version, type, initial }: { clientId: string; version: string; type: "public" | "confidential"; initial: ClientFormValues }) {
  const [state, action, pending] = useActionState(updateClientAction, {});
  return (
    <form action={action} className="grid max-w-2xl gap-4" noValidate>
      <FormMessage state={state} />
      <input type="hidden" name="clientId" value={clientId} />
      <input type="hidden" name="version" value={version} />
      <ClientFields state={state} initial={initial} typeField={<TypeShown type={type} />} />
      <div>
        <Button type="submit" disabled={pending}>
          {pending ? "Saving…" : "Save changes"}
        </Button>
      </div>
    </form>
  );
}

// Sent along so the client is checked against the same rules as at creation (which depend on it).
function TypeShown({ type }: { type: "public" | "confidential" }) {
  return (
    <p className="text-sm text-slate-700">
      <input type="hidden" name="type" value={type} />
      <span className="font-medium">Type:</span> {type} (chosen when the client was made; for the other type, create a new client)
    </p>
  );
}
