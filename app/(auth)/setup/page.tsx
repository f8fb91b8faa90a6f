import type { Metadata } from "next";
import { Card } from "@/components/ui/card";
import { NoticeCard } from "@/components/ui/notice-card";
import { isSetupTokenUsable } from "@/lib/auth";
import { SetupForm } from "./setup-form";

export const metadata: Metadata = { title: "Set up Gatehouse" };

export default async function SetupPage({ searchParams }: { searchParams: Promise<{ token?: string | string[] }> }) {
  const { token } = await searchParams;
  const usable = typeof token === "string" && token.length <= 200 && (await isSetupTokenUsable(token));
  if (!usable) {
    return (
      <NoticeCard title="Setup link not valid" link={{ href: "/sign-in", label: "Go to sign in" }}>
        This link is invalid, has expired, was already used, or Gatehouse already has an admin. An unused link is printed on
        the server console each time Gatehouse starts without an admin.
      </NoticeCard>
    );
  }
  return (
    <Card level={1} title="Create the first admin" description="This link works once. The account you create here runs Gatehouse.">
      <SetupForm token={token} />
    </Card>
  );
}
