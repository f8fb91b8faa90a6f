import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { Card } from "@/components/ui/card";
import { currentUser, recoveryAvailable } from "@/lib/auth";
import { RecoveryRequestForm } from "./recovery-request-form";

export const metadata: Metadata = { title: "Reset your password" };

export default async function ForgotPasswordPage() {
  if (await currentUser()) redirect("/account/security");
  if (!recoveryAvailable()) {
    return (
      <Card title="Reset your password">
        <p className="text-sm text-slate-600" data-testid="recovery-unavailable">
          Password reset by email is not set up on this server. Ask your administrator to reset your password.
        </p>
        <Link href="/sign-in" className="mt-4 inline-block text-sm font-medium text-brand-700 hover:underline">
          Back to sign in
        </Link>
      </Card>
    );
  }
  return (
    <Card title="Reset your password" description="We email you a link to choose a new one. A second factor, if you have one, is still asked at sign-in.">
      <RecoveryRequestForm />
    </Card>
  );
}
