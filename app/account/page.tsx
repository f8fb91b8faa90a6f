import type { Metadata } from "next";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { requireUser } from "@/lib/auth";
import { ProfileForm } from "./profile-form";

export const metadata: Metadata = { title: "My account" };

export default async function AccountPage() {
  const user = await requireUser();
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
            <dd data-testid="account-email">{user.email}</dd>
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
