import type { Metadata } from "next";
import { Card } from "@/components/ui/card";
import { NoticeCard } from "@/components/ui/notice-card";
import { emailVerificationLinkAddress } from "@/lib/auth";
import { ConfirmEmailForm } from "./confirm-email-form";

export const metadata: Metadata = { title: "Confirm your email address" };

// Reached from the verification mail (lib/auth/email-verification.ts). Opening the page does not
// spend the link (mail scanners open links); the button does. Signed in or not: the link is the proof.
export default async function VerifyEmailPage({ searchParams }: { searchParams: Promise<{ token?: string | string[] }> }) {
  const { token } = await searchParams;
  const email = typeof token === "string" && token.length <= 200 ? await emailVerificationLinkAddress(token) : null;
  if (!email || typeof token !== "string") {
    return (
      <NoticeCard title="Link not valid" link={{ href: "/account", label: "Go to your account" }}>
        This link is not valid any more: it works once, for 24 hours, only the latest one sent works, and only while the account still has the address it was sent to. Send a new one from your account page.
      </NoticeCard>
    );
  }
  return (
    <Card level={1} title="Confirm your email address" description={`Confirm that ${email} is yours.`}>
      <ConfirmEmailForm token={token} />
    </Card>
  );
}
