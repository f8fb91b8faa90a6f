import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Card } from "@/components/ui/card";
import { NoticeCard } from "@/components/ui/notice-card";
import { currentUser, recoveryAvailable } from "@/lib/auth";
import { RecoveryRequestForm } from "./recovery-request-form";

export const metadata: Metadata = { title: "Reset your password" };

export default async function ForgotPasswordPage() {
  if (await currentUser()) redirect("/account/security");
  if (!recoveryAvailable()) {
    return (
      <NoticeCard title="Reset your password" link={{ href: "/sign-in", label: "Back to sign in" }} testId="recovery-unavailable">
        Password reset by email is not set up on this server. Ask your administrator for a temporary password.
      </NoticeCard>
    );
  }
  return (
    <Card level={1} title="Reset your password" description="We email you a link to choose a new one. A second factor, if you have one, is still asked at sign-in.">
      <RecoveryRequestForm />
    </Card>
  );
}
