import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Card } from "@/components/ui/card";
import { currentPendingSignIn, currentUser, pendingStageUrl } from "@/lib/auth";
import { safeReturnPath } from "@/lib/util/format";
import { SignInForm } from "./sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string | string[] }> }) {
  const raw = (await searchParams).callbackUrl;
  const callbackUrl = safeReturnPath(typeof raw === "string" ? raw : undefined);
  if (await currentUser()) redirect(callbackUrl);
  const pending = await currentPendingSignIn();
  if (pending) redirect(pendingStageUrl(pending.stage, callbackUrl));
  return (
    <Card level={1} title="Sign in" description="Use your Gatehouse account.">
      <SignInForm callbackUrl={callbackUrl} />
    </Card>
  );
}
