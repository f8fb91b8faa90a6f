"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoedTicked } from "@/components/ui/echoed";
import { FormMessage } from "@/components/ui/form-message";
import { rotateClientSecretAction } from "../actions";
import { ShownOnce } from "../shown-once";

export function RotateSecretForm({ clientId, clientName }: { clientId: string; clientName: string }) {
  const [state, action, pending] = useActionState(rotateClientSecretAction, {});
  const rotated = state.ok ? (state.data as { clientSecret: string }) : null;
  return (
    <div className="space-y-3">
      <FormMessage state={state} />
      {rotated && <ShownOnce clientSecret={rotated.clientSecret} />}
      <form
        action={action}
        onSubmit={(event) => {
          const overlap = new FormData(event.currentTarget).get("overlap") === "on";
          if (!window.confirm(`Make a new secret for ${clientName}? ${overlap ? "The old one keeps working for an hour." : "The old one stops working within seconds."}`)) event.preventDefault();
        }}
        className="space-y-3"
      >
        <input type="hidden" name="clientId" value={clientId} />
        <label className="block text-sm">
          <input type="checkbox" name="overlap" defaultChecked={echoedTicked(state, "overlap", false)} /> Keep the old secret working for 1 hour, so running deployments can switch over
        </label>
        <Button type="submit" variant="danger" disabled={pending}>
          {pending ? "Rotating…" : "Rotate secret"}
        </Button>
      </form>
    </div>
  );
}
