"use client";
import Link from "next/link";
import { useActionState, useEffect, useState, useTransition } from "react";
import { useBrowserValue } from "@/components/ui/browser-value";
import { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill } from "@simplewebauthn/browser";
import type { ActionState } from "@/lib/auth/action";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { ceremonyError, passkeyAssertion } from "@/components/mfa/webauthn";
import { useFollowRedirect } from "@/components/ui/follow-redirect";
import { passkeySignInAction, passkeySignInOptionsAction, signInAction } from "./actions";

export function SignInForm({ callbackUrl }: { callbackUrl?: string }) {
  const [state, action, pending] = useActionState(signInAction, {});
  const [passkeyState, passkeySignIn, passkeyPending] = useActionState(passkeySignInAction, {});
  const [, startTransition] = useTransition();
  const [ceremony, setCeremony] = useState<ActionState | null>(null);
  const leavingAfterPassword = useFollowRedirect(state);
  const leavingAfterPasskey = useFollowRedirect(passkeyState);
  const leaving = leavingAfterPassword || leavingAfterPasskey;
  // False on the server, the browser's answer after hydration.
  const webAuthn = useBrowserValue(browserSupportsWebAuthn, false);

  async function signInWithPasskey(useBrowserAutofill: boolean) {
    setCeremony(null);
    try {
      const form = await passkeyAssertion(passkeySignInOptionsAction, useBrowserAutofill);
      if (callbackUrl) form.append("callbackUrl", callbackUrl);
      startTransition(() => passkeySignIn(form));
    } catch (error) {
      // A conditional request is aborted whenever the button starts a modal one: not an error to show.
      if (!useBrowserAutofill) setCeremony(ceremonyError(error));
    }
  }

  // Passkey autofill (conditional mediation): the browser offers passkeys in the email field.
  useEffect(() => {
    void browserSupportsWebAuthnAutofill().then((supported) => {
      if (supported) void signInWithPasskey(true);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once, on mount
  }, []);

  return (
    <div className="space-y-4">
      <form action={action} className="space-y-4" noValidate>
        {!state.ok && <FormMessage state={state} />}
        {!passkeyState.ok && <FormMessage state={passkeyState} />}
        {ceremony && <FormMessage state={ceremony} />}
        <Field label="Email" name="email" type="email" autoComplete="username webauthn" required autoFocus defaultValue={echoed(state, "email")} errors={state.fieldErrors?.email} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required errors={state.fieldErrors?.password} />
        {callbackUrl && <input type="hidden" name="callbackUrl" value={callbackUrl} />}
        <Button type="submit" className="w-full" disabled={pending || leaving}>
          {pending || leaving ? "Signing in…" : "Sign in"}
        </Button>
      </form>
      {webAuthn && (
        <Button type="button" variant="secondary" className="w-full" onClick={() => void signInWithPasskey(false)} disabled={passkeyPending}>
          {passkeyPending ? "Signing in…" : "Sign in with a passkey"}
        </Button>
      )}
      <p className="text-center text-sm">
        <Link href="/sign-in/forgot" className="text-slate-600 underline">
          Forgot your password?
        </Link>
      </p>
    </div>
  );
}

