import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { signOutAction } from "@/components/shell/actions";
import { Card } from "@/components/ui/card";
import { currentPendingSignIn, currentUser, MIN_PASSWORD_LENGTH, pendingStageUrl } from "@/lib/auth";
import { safeReturnPath } from "@/lib/util/format";
import { NewPasswordForm } from "./new-password-form";

export const metadata: Metadata = { title: "Choose a new password" };

// Reached by a sign-in whose account must choose a new password (an administrator or an incident
// response set User.passwordResetRequiredAt). It comes after any MFA step; until the password is
// changed the session reaches nothing else.
export default async function NewPasswordPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string | string[] }> }) {
  const raw = (await searchParams).callbackUrl;
  const callbackUrl = safeReturnPath(typeof raw === "string" ? raw : undefined);
  if (await currentUser()) redirect(callbackUrl);
  const pending = await currentPendingSignIn();
  if (!pending) redirect(`/sign-in?callbackUrl=${encodeURIComponent(callbackUrl)}`);
  if (pending.stage !== "password_change_required") redirect(pendingStageUrl(pending.stage, callbackUrl));
  return (
    <Card level={1} title="Choose a new password" description={`Signing in as ${pending.email}.`}>
      <p className="mb-4 text-sm text-slate-700" data-testid="password-change-reason">
        A new password is required for this account (an administrator, or an automated response to a security incident, asked for one). Choose one before you continue.
      </p>
      <NewPasswordForm email={pending.email} callbackUrl={callbackUrl} minLength={MIN_PASSWORD_LENGTH} />
      <form action={signOutAction} className="mt-4 text-center">
        <button type="submit" className="text-sm text-slate-600 underline">
          Cancel and sign out
        </button>
      </form>
    </Card>
  );
}
