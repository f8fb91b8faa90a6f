"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/form-message";
import { issueRegistrationTokenAction } from "./actions";

export function RegistrationTokenButton() {
  const [state, action, pending] = useActionState(issueRegistrationTokenAction, {});
  const token = state.ok ? (state.data as { token: string }).token : null;
  return (
    <form action={action} className="space-y-2">
      <FormMessage state={state} />
      {token && (
        <p className="text-sm">
          Token (shown once): <code className="break-all" data-testid="registration-token">{token}</code>
        </p>
      )}
      <Button type="submit" variant="secondary" disabled={pending}>
        Issue an initial access token
      </Button>
    </form>
  );
}
