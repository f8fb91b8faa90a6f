import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SecondFactorForm } from "@/components/mfa/second-factor-form";
import { signOutAction } from "@/components/shell/actions";
import { Card } from "@/components/ui/card";
import { currentPendingSignIn, currentUser, pendingStageUrl } from "@/lib/auth";
import { secondFactors } from "@/lib/mfa";
import { safeReturnPath } from "@/lib/util/format";
import { mfaStepPasskeyOptionsAction, verifyMfaStepAction } from "./actions";

export const metadata: Metadata = { title: "Verify it is you" };

export default async function VerifyPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string | string[] }> }) {
  const raw = (await searchParams).callbackUrl;
  const callbackUrl = safeReturnPath(typeof raw === "string" ? raw : undefined);
  if (await currentUser()) redirect(callbackUrl);
  const pending = await currentPendingSignIn();
  if (!pending) redirect(`/sign-in?callbackUrl=${encodeURIComponent(callbackUrl)}`);
  if (pending.stage !== "mfa_required") redirect(pendingStageUrl(pending.stage, callbackUrl));
  const factors = await secondFactors(pending.id);
  const passkeyOnly = pending.requiredFactor === "passkey";
  return (
    <Card level={1} title="Verify it is you" description={passkeyOnly ? "This sign-in needs one of your passkeys." : `Signing in as ${pending.email}. Use one of your second factors.`}>
      <SecondFactorForm
        methods={{ totp: factors.totp && !passkeyOnly, passkey: factors.passkeys > 0, backupCode: factors.backupCodes > 0 && !passkeyOnly }}
        verifyAction={verifyMfaStepAction}
        passkeyOptionsAction={mfaStepPasskeyOptionsAction}
        offerRememberDevice
        callbackUrl={callbackUrl}
      />
      <details className="mt-4 text-sm text-slate-600" data-testid="lost-factors">
        <summary className="cursor-pointer">Can’t use any of these?</summary>
        <p className="mt-2">
          {passkeyOnly
            ? "This sign-in looked unusual, so only a passkey will do. Try again from a device or place you usually sign in from, or ask your administrator to confirm it is you."
            : "If you have lost your authenticator app, your passkeys and your backup codes, ask your administrator. Once they have confirmed it is you, they can reset your second factors, and you set up new ones at your next sign-in."}
        </p>
      </details>
      <form action={signOutAction} className="mt-4 text-center">
        <button type="submit" className="text-sm text-slate-600 underline">
          Cancel and sign in as someone else
        </button>
      </form>
    </Card>
  );
}
