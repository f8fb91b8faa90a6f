import type { Metadata } from "next";
import { Card } from "@/components/ui/card";
import { ActionButton } from "@/components/ui/action-form";
import { PageHeader } from "@/components/shell/page-header";
import { SessionsTable } from "@/components/sessions-table";
import { listActiveSessions, requireUser } from "@/lib/auth";
import { revokeOtherSessionsAction, revokeSessionAction } from "../actions";
import { PasswordForm } from "./password-form";

export const metadata: Metadata = { title: "Security" };

export default async function SecurityPage() {
  const user = await requireUser();
  const sessions = await listActiveSessions(user.id);
  return (
    <>
      <PageHeader title="Security" description="Your password and where you are signed in." />
      <div className="space-y-6">
        <Card title="Password">
          <PasswordForm />
        </Card>
        <Card
          title="Active sessions"
          description="Every browser signed in to your account. Sign out any you do not recognise, then change your password."
          actions={
            sessions.length > 1 ? (
              <ActionButton action={revokeOtherSessionsAction} label="Sign out all other sessions" variant="danger" confirm="Sign out every other session?" />
            ) : null
          }
        >
          <SessionsTable sessions={sessions} currentSessionId={user.sessionId} revokeAction={revokeSessionAction} />
        </Card>
        <Card title="Two-factor authentication and passkeys">
          <p className="text-sm text-slate-600">
            Not built yet: TOTP, passkeys, backup codes and trusted devices arrive with the MFA work. Until then your account
            is protected by its password only.
          </p>
        </Card>
      </div>
    </>
  );
}
