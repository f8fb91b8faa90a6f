"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/form-message";
import type { ActionState } from "@/lib/auth/action";

export function RunTestsButton({ action }: { action: (prev: ActionState, formData: FormData) => Promise<ActionState> }) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form action={formAction} className="space-y-3">
      <Button type="submit" disabled={pending}>{pending ? "Testing the live system…" : "Run tests now"}</Button>
      <FormMessage state={state} />
    </form>
  );
}
