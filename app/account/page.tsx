import type { Metadata } from "next";
import { ActionButton } from "@/components/ui/action-form";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { emailVerificationAvailable, emailVerifiedAt, requireUser } from "@/lib/auth";
import { sendEmailVerificationAction } from "./actions";
import { ProfileForm } from "./profile-form";

export const metadata: Metadata = { title: "My account" };

export default async function AccountPage() {
  const user = await requireUser();
  const verifiedAt = await emailVerifiedAt(user.id);
  return (
    <>
      <PageHeader title="My account" description="Your profile as Gatehouse and connected apps see it." />
      <div className="space-y-6">
        <Card title="Profile">
          <ProfileForm name={user.name} />
        </Card>
        <Card title="Sign-in identity">
          <dl className="grid gap-3 text-sm sm:grid-cols-[140px_1fr]">
            <dt className="text-slate-500">Email</dt>
            <dd className="space-y-2">
              <p>
                <span data-testid="account-email">{user.email}</span>{" "}
                {verifiedAt ? (
                  <span data-testid="email-verification"><Badge tone="green">Verified</Badge> <span className="text-xs text-slate-500">since <LocalTime at={verifiedAt} /></span></span>
                ) : (
                  <span data-testid="email-verification"><Badge tone="amber">Not verified</Badge></span>
                )}
              </p>
              {!verifiedAt && (emailVerificationAvailable() ? (
                <div>
                  <p className="mb-2 text-xs text-slate-500">Apps you sign in to see whether your address is confirmed (some only link accounts by a confirmed one).</p>
                  <ActionButton action={sendEmailVerificationAction} label="Email me a confirmation link" pendingLabel="Sending…" showSuccess />
                </div>
              ) : (
                <p className="text-xs text-slate-500">Gatehouse cannot send mail here, so the address cannot be confirmed yet: ask your administrator.</p>
              ))}
            </dd>
            <dt className="text-slate-500">Roles</dt>
            <dd className="flex flex-wrap gap-1">
              {user.roles.map((role) => (
                <Badge key={role} tone={role === "user" ? "neutral" : "brand"}>
                  {role}
                </Badge>
              ))}
            </dd>
            <dt className="text-slate-500">Groups</dt>
            <dd data-testid="account-groups">{user.groups.length ? user.groups.join(", ") : "None"}</dd>
          </dl>
          <p className="mt-4 text-xs text-slate-500">Your email, roles and groups are managed by an admin.</p>
        </Card>
      </div>
    </>
  );
}
