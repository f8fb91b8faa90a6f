"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/form-message";
import { verifyChainAction } from "./actions";

export function VerifyChainButton() {
  const [state, action, pending] = useActionState(verifyChainAction, {});
  return (
    <form action={action} className="space-y-3">
      <Button type="submit" variant="secondary" disabled={pending}>
        {pending ? "Verifying the whole chain…" : "Verify chain"}
      </Button>
      <FormMessage state={state} />
    </form>
  );
}
