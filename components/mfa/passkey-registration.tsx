"use client";
import { useActionState, useState, useTransition } from "react";
import type { ActionState } from "@/lib/auth/action";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { BackupCodesList } from "./backup-codes";
import { ceremonyError, passkeyRegistration } from "./webauthn";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;

/** Adds a passkey or security key under a name the user chooses. */
export function PasskeyRegistration({ optionsAction, registerAction }: { optionsAction: Action; registerAction: Action }) {
  const [name, setName] = useState("");
  // Once a passkey is added its name is spent: the field empties for the next one.
  const [state, register, pending] = useActionState(async (previous: ActionState, form: FormData) => {
    const answer = await registerAction(previous, form);
    if (answer.ok) setName("");
    return answer;
  }, {});
  const [, startTransition] = useTransition();
  const [ceremony, setCeremony] = useState<ActionState | null>(null);
  const backupCodes = state.ok ? (state.data as { backupCodes: string[] | null }).backupCodes : null;

  async function add() {
    setCeremony(null);
    if (!name.trim()) return setCeremony({ ok: false, message: "Give the passkey a name first." });
    try {
      const form = await passkeyRegistration(optionsAction);
      form.append("name", name);
      startTransition(() => register(form));
    } catch (error) {
      setCeremony(ceremonyError(error));
    }
  }

  return (
    <div className="space-y-3">
      <FormMessage state={state} />
      {ceremony && <FormMessage state={ceremony} />}
      {backupCodes && <BackupCodesList codes={backupCodes} />}
      <div className="flex items-end gap-2">
        <Field label="Passkey name" name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Work laptop" maxLength={60} errors={state.fieldErrors?.name} className="flex-1" />
        <Button type="button" onClick={add} disabled={pending}>
          {pending ? "Adding…" : "Add a passkey"}
        </Button>
      </div>
    </div>
  );
}
