"use client";
import { useActionState, useState, useTransition } from "react";
import type { ActionState } from "@/lib/auth/action";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { useFollowRedirect } from "@/components/ui/follow-redirect";
import { echoed } from "@/components/ui/echoed";
import { ceremonyError, passkeyAssertion } from "./webauthn";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;
export type AvailableMethods = { totp: boolean; passkey: boolean; backupCode: boolean };
type Method = "totp" | "passkey" | "backup_code";

const LABELS: Record<Method, string> = { totp: "Authenticator app", passkey: "Passkey", backup_code: "Backup code" };

/** The MFA step and step-up: the user picks a factor they have and proves it. */
export function SecondFactorForm({
  methods,
  verifyAction,
  passkeyOptionsAction,
  offerRememberDevice = false,
  callbackUrl,
}: {
  methods: AvailableMethods;
  verifyAction: Action;
  passkeyOptionsAction: Action;
  offerRememberDevice?: boolean;
  callbackUrl: string;
}) {
  const available = (["totp", "passkey", "backup_code"] as const).filter((m) => (m === "backup_code" ? methods.backupCode : methods[m]));
  const [method, setMethod] = useState<Method>(available[0] ?? "totp");
  const [state, dispatch, pending] = useActionState(verifyAction, {});
  useFollowRedirect(state);
  const [ceremony, setCeremony] = useState<ActionState | null>(null);
  const [, startTransition] = useTransition();
  const [remember, setRemember] = useState(false);
  // The answer belongs to the method that was tried (the action echoes it): switching methods
  // clears it from view. An answer without one (the session ended) shows whatever is chosen.
  const triedWith = echoed(state, "method") ?? method;

  const common = { callbackUrl, ...(offerRememberDevice && remember ? { rememberDevice: "on" } : {}) };

  async function usePasskey() {
    setCeremony(null);
    try {
      const form = await passkeyAssertion(passkeyOptionsAction);
      form.append("method", "passkey");
      for (const [k, v] of Object.entries(common)) form.append(k, v);
      startTransition(() => dispatch(form));
    } catch (error) {
      setCeremony(ceremonyError(error));
    }
  }

  return (
    <div className="space-y-4">
      {available.length > 1 && (
        <div role="radiogroup" aria-label="Verification method" className="flex gap-2">
          {available.map((m) => (
            <label key={m} className={`cursor-pointer rounded-md border px-3 py-1.5 text-sm has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-brand-600 ${m === method ? "border-brand-600 bg-brand-50 text-brand-700" : "border-slate-300"}`}>
              <input type="radio" name="method-choice" value={m} checked={m === method} onChange={() => setMethod(m)} className="sr-only" />
              {LABELS[m]}
            </label>
          ))}
        </div>
      )}
      {!state.ok && triedWith === method && <FormMessage state={state} />}
      {ceremony && <FormMessage state={ceremony} />}
      {offerRememberDevice && (
        <label className="flex items-center gap-2 text-sm text-slate-700">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
          Remember this device for 30 days
        </label>
      )}
      {method === "passkey" ? (
        <Button type="button" className="w-full" onClick={usePasskey} disabled={pending}>
          {pending ? "Verifying…" : "Use a passkey"}
        </Button>
      ) : (
        <form action={dispatch} className="space-y-4" noValidate>
          <input type="hidden" name="method" value={method} />
          {Object.entries(common).map(([k, v]) => (
            <input key={k} type="hidden" name={k} value={v} />
          ))}
          {method === "totp" ? (
            <Field label="Authentication code" name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} hint="The 6-digit code from your authenticator app." autoFocus required />
          ) : (
            <Field label="Backup code" name="code" autoComplete="off" hint="One of the codes you saved when you set up your second factor. Each works once." autoFocus required />
          )}
          <Button type="submit" className="w-full" disabled={pending}>
            {pending ? "Verifying…" : "Verify"}
          </Button>
        </form>
      )}
    </div>
  );
}
