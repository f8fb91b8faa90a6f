"use client";
import { useActionState } from "react";
import type { ActionState } from "@/lib/auth/action";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { BackupCodesList } from "./backup-codes";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;
type Enrollment = { secret: string; uri: string; qrCode: string };

/** Set up an authenticator app: QR code and manual key, activated by a first valid code. */
export function TotpEnrollment({ startAction, confirmAction }: { startAction: Action; confirmAction: Action }) {
  const [started, start, starting] = useActionState(startAction, {});
  const [confirmed, confirm, confirming] = useActionState(confirmAction, {});
  const enrollment = started.ok ? (started.data as Enrollment) : null;
  const backupCodes = confirmed.ok ? (confirmed.data as { backupCodes: string[] | null }).backupCodes : null;

  if (confirmed.ok) {
    return (
      <div className="space-y-3">
        <FormMessage state={confirmed} />
        {backupCodes && <BackupCodesList codes={backupCodes} />}
      </div>
    );
  }
  if (!enrollment) {
    // A form, not a click handler: a click before the page's script has loaded still starts it.
    return (
      <form action={start} className="space-y-2">
        <FormMessage state={started} />
        <Button type="submit" disabled={starting}>
          {starting ? "Preparing…" : "Set up an authenticator app"}
        </Button>
      </form>
    );
  }
  return (
    <div className="space-y-4">
      <p className="text-sm text-slate-700">Scan the code with your authenticator app (or enter the key by hand), then type the 6-digit code it shows.</p>
      <div className="flex flex-wrap items-start gap-4">
        {/* eslint-disable-next-line @next/next/no-img-element -- a data: URL generated on the server */}
        <img src={enrollment.qrCode} alt="QR code for your authenticator app" width={160} height={160} className="rounded border border-slate-200" />
        <div className="space-y-1 text-sm">
          <p className="font-medium text-slate-700">Key</p>
          <code data-testid="totp-secret" className="block break-all rounded bg-slate-100 px-2 py-1 font-mono text-xs">
            {enrollment.secret}
          </code>
          <p className="text-xs text-slate-500">Time-based, 6 digits, every 30 seconds.</p>
        </div>
      </div>
      <form action={confirm} className="space-y-3" noValidate>
        <FormMessage state={confirmed} />
        <Field label="Code from the app" name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} errors={confirmed.fieldErrors?.code} required />
        <Button type="submit" disabled={confirming}>
          {confirming ? "Checking…" : "Turn on"}
        </Button>
      </form>
    </div>
  );
}
