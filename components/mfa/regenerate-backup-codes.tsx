"use client";
import { useActionState } from "react";
import type { ActionState } from "@/lib/auth/action";
import { Button } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/form-message";
import { BackupCodesList } from "./backup-codes";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;

export function RegenerateBackupCodes({ action, label }: { action: Action; label: string }) {
  const [state, regenerate, pending] = useActionState(action, {});
  const codes = state.ok ? (state.data as { backupCodes: string[] }).backupCodes : null;
  return (
    <form
      action={regenerate}
      onSubmit={(event) => {
        if (!window.confirm("Generate new backup codes? The current ones stop working.")) event.preventDefault();
      }}
      className="space-y-3"
    >
      <FormMessage state={state} />
      {codes && <BackupCodesList codes={codes} />}
      <Button type="submit" variant="secondary" disabled={pending}>
        {pending ? "Generating…" : label}
      </Button>
    </form>
  );
}
