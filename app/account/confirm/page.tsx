import type { Metadata } from "next";
import { SecondFactorForm } from "@/components/mfa/second-factor-form";
import { PageHeader } from "@/components/shell/page-header";
import { Card } from "@/components/ui/card";
import { requireUser } from "@/lib/auth";
import { hasSecondFactor, secondFactors } from "@/lib/mfa";
import { safeReturnPath } from "@/lib/util/format";
import { stepUpAction, stepUpPasskeyOptionsAction } from "./actions";
import { PasswordConfirmForm } from "./password-confirm-form";

export const metadata: Metadata = { title: "Confirm it is you" };

export default async function ConfirmPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string | string[]; factor?: string | string[] }> }) {
  const user = await requireUser();
  const { callbackUrl: raw, factor } = await searchParams;
  const callbackUrl = safeReturnPath(typeof raw === "string" ? raw : undefined, "/account/security");
  const factors = await secondFactors(user.id);
  const hasFactor = hasSecondFactor(factors);
  // The access policies accept only a passkey for what was asked: a code would confirm nothing they count.
  const passkeyOnly = factor === "passkey" && factors.passkeys > 0;
  return (
    <>
      <PageHeader
        title="Confirm it is you"
        description={passkeyOnly
          ? "The access policies ask for a passkey for this: confirm it is you with yours."
          : "Sensitive changes need you to confirm it is you: a second factor (or, without one, your password) from the last few minutes."}
      />
      <div className="max-w-md">
        <Card>
          {hasFactor ? (
            <SecondFactorForm
              methods={passkeyOnly ? { totp: false, passkey: true, backupCode: false } : { totp: factors.totp, passkey: factors.passkeys > 0, backupCode: factors.backupCodes > 0 }}
              verifyAction={stepUpAction}
              passkeyOptionsAction={stepUpPasskeyOptionsAction}
              callbackUrl={callbackUrl}
            />
          ) : (
            <PasswordConfirmForm callbackUrl={callbackUrl} />
          )}
        </Card>
      </div>
    </>
  );
}
