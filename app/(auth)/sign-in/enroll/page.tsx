import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { PasskeyRegistration } from "@/components/mfa/passkey-registration";
import { TotpEnrollment } from "@/components/mfa/totp-enrollment";
import { signOutAction } from "@/components/shell/actions";
import { buttonClass } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { currentPendingSignIn, currentUser, pendingStageUrl } from "@/lib/auth";
import { safeReturnPath } from "@/lib/util/format";
import {
  confirmTotpEnrollmentAction, passkeyRegistrationOptionsAction, registerPasskeyAction, startTotpEnrollmentAction,
} from "@/app/account/security/mfa-actions";

export const metadata: Metadata = { title: "Set up a second factor" };

// Reached by a sign-in whose account must have a second factor and has none. Once one is
// enrolled the session is active and the page offers the way on (after the backup codes).
export default async function EnrollPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string | string[] }> }) {
  const raw = (await searchParams).callbackUrl;
  const callbackUrl = safeReturnPath(typeof raw === "string" ? raw : undefined);
  const pending = await currentPendingSignIn();
  const user = pending ?? (await currentUser());
  if (!user) redirect(`/sign-in?callbackUrl=${encodeURIComponent(callbackUrl)}`);
  if (pending && pending.stage !== "enrollment_required") redirect(pendingStageUrl(pending.stage, callbackUrl));
  return (
    <Card level={1} title="Set up a second factor" description={`Your account (${user.email}) must have a second factor before you continue.`}>
      <div className="space-y-6">
        <section className="space-y-2">
          <h3 className="text-sm font-semibold text-slate-900">Authenticator app</h3>
          <TotpEnrollment startAction={startTotpEnrollmentAction} confirmAction={confirmTotpEnrollmentAction} />
        </section>
        <section className="space-y-2">
          <h3 className="text-sm font-semibold text-slate-900">Or a passkey</h3>
          <PasskeyRegistration optionsAction={passkeyRegistrationOptionsAction} registerAction={registerPasskeyAction} />
        </section>
        {pending ? (
          <form action={signOutAction} className="text-center">
            <button type="submit" className="text-sm text-slate-600 underline">
              Cancel and sign out
            </button>
          </form>
        ) : (
          <Link href={callbackUrl} className={`${buttonClass()} w-full`}>
            Continue
          </Link>
        )}
      </div>
    </Card>
  );
}
