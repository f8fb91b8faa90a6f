import type { Metadata } from "next";
import { Card } from "@/components/ui/card";
import { NoticeCard } from "@/components/ui/notice-card";
import { MIN_PASSWORD_LENGTH, recoveryLinkAccount } from "@/lib/auth";
import { ResetPasswordForm } from "./reset-password-form";

export const metadata: Metadata = { title: "Choose a new password" };

// Reached from the recovery mail (lib/auth/recovery.ts). Opening the page does not spend the
// link; setting the password does.
export default async function ResetPasswordPage({ searchParams }: { searchParams: Promise<{ token?: string | string[] }> }) {
  const { token } = await searchParams;
  const account = typeof token === "string" && token.length <= 200 ? await recoveryLinkAccount(token) : null;
  if (!account || typeof token !== "string") {
    return (
      <NoticeCard title="Link not valid" link={{ href: "/sign-in/forgot", label: "Ask for a new link" }}>
        This link is not valid any more: it works once, for 30 minutes, and only the latest one sent works.
      </NoticeCard>
    );
  }
  return (
    <Card level={1} title="Choose a new password" description={`For ${account.email}.`}>
      <ResetPasswordForm token={token} email={account.email} minLength={MIN_PASSWORD_LENGTH} />
    </Card>
  );
}
