import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { ActionButton } from "@/components/ui/action-form";
import { PageHeader } from "@/components/shell/page-header";
import { SessionsTable } from "@/components/sessions-table";
import { emailVerificationAvailable, findUser, listActiveSessions, MIN_PASSWORD_LENGTH, requireAccess, signInLockedUntil, type PasswordState } from "@/lib/auth";
import { revokeAllUserSessionsAction, revokeUserSessionAction, setDisabledAction, unlockSignInAction } from "../actions";
import { ChangeEmailForm, DeleteAccountForm, ResetMfaForm, RolesForm, TemporaryPasswordForm } from "./user-forms";
import { listDevices } from "@/lib/devices";
import { groupsOfUser } from "@/lib/groups";
import { factorLockedUntil, factorSummary } from "@/lib/mfa";
import { recentSignIns } from "@/lib/risk";
import { SignInActivityTable } from "@/components/risk/sign-in-activity";
import { LocalTime } from "@/components/ui/local-time";

export const metadata: Metadata = { title: "User" };

// Changes to someone's access say why: the answer goes into the audit trail with the change.
const REASON_PROMPT = "Why? (a ticket number or a few words; it goes into the audit trail)";

export default async function UserPage({ params }: { params: Promise<{ userId: string }> }) {
  const { userId } = await params;
  await requireAccess("users");
  const id = z.uuid().safeParse(userId);
  const user = id.success ? await findUser(id.data) : null;
  if (!user) notFound();
  const [sessions, factors, devices, activity, lockedUntil, factorsLockedUntil, groups] = await Promise.all([
    listActiveSessions(user.id), factorSummary(user), listDevices(user.id), recentSignIns(user.id), signInLockedUntil(user.email), factorLockedUntil(user.id), groupsOfUser(user.id),
  ]);

  return (
    <>
      <Link href="/admin/users" className="text-sm text-brand-700 hover:underline">
        ← Users
      </Link>
      <PageHeader
        title={user.name}
        description={user.email}
        actions={
          <div className="flex items-center gap-3">
            {user.disabledAt ? <Badge tone="red">Disabled</Badge> : <Badge tone="green">Active</Badge>}
            {lockedUntil && <Badge tone="red">Sign-in locked until <LocalTime at={lockedUntil} /></Badge>}
            {factorsLockedUntil && <Badge tone="red">Codes locked until <LocalTime at={factorsLockedUntil} /> (wrong codes)</Badge>}
            {(lockedUntil || factorsLockedUntil) && (
              <ActionButton action={unlockSignInAction} fields={{ userId: user.id }} label="Lift the lock" variant="secondary" size="md" confirm={`Let ${user.email} sign in again now? Check with them first if the lock came from an incident.`} askReason={REASON_PROMPT} />
            )}
            <ActionButton
              action={setDisabledAction}
              fields={{ userId: user.id, disabled: String(!user.disabledAt) }}
              label={user.disabledAt ? "Enable account" : "Disable account"}
              variant={user.disabledAt ? "secondary" : "danger"}
              size="md"
              confirm={user.disabledAt ? undefined : `Disable ${user.email}? They are signed out everywhere at once.`}
              askReason={REASON_PROMPT}
            />
          </div>
        }
      />
      <div className="space-y-6">
        <Card
          title="Sign-in email"
          description={user.emailVerifiedAt
            ? <>Confirmed by its owner (<LocalTime at={user.emailVerifiedAt} />): apps see it as verified.</>
            : `Not confirmed by its owner yet${emailVerificationAvailable() ? " (they can, from their account page)" : " (Gatehouse cannot send mail here, so they cannot yet)"}: apps see it as unverified. A change makes it unconfirmed again.`}
        >
          <ChangeEmailForm userId={user.id} email={user.email} />
        </Card>
        <Card title="Roles">
          <RolesForm userId={user.id} roles={user.roles} />
        </Card>
        <Card title="Groups" description="Added and removed on each group's page.">
          {groups.length === 0 ? (
            <p className="text-sm text-slate-500">
              In no group. <Link href="/admin/groups" className="text-brand-700 hover:underline">Groups</Link>
            </p>
          ) : (
            <ul className="flex flex-wrap gap-2 text-sm" data-testid="user-groups">
              {groups.map((g) => (
                <li key={g.id}>
                  <Link href={`/admin/groups/${g.id}`} className="text-brand-700 hover:underline">{g.name}</Link> <span className="font-mono text-xs text-slate-500">{g.id}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card
          title="Active sessions"
          actions={
            sessions.length > 0 ? (
              <ActionButton action={revokeAllUserSessionsAction} fields={{ userId: user.id }} label="Sign out everywhere" variant="danger" confirm="Sign this user out of every session?" askReason={REASON_PROMPT} />
            ) : null
          }
        >
          <SessionsTable sessions={sessions} revokeAction={revokeUserSessionAction} extraFields={{ userId: user.id }} askReason={REASON_PROMPT} />
        </Card>
        <Card title="Password" description="For a user who forgot theirs (they can also reset it themselves by email when SMTP is set up).">
          <div className="space-y-4">
            <PasswordStatus user={user} />
            <TemporaryPasswordForm userId={user.id} minLength={MIN_PASSWORD_LENGTH} />
          </div>
        </Card>
        <Card title="Second factors" description={factors.mfaRequired ? "This user's roles require a second factor." : undefined}>
          <div className="space-y-4">
            <ul className="space-y-1 text-sm text-slate-700" data-testid="user-factors">
              <li>Authenticator app: {factors.totp ? <>on since <LocalTime at={factors.totp.activatedAt} /></> : "not set up"}</li>
              <li>
                Passkeys: {factors.passkeys.length === 0 ? "none" : factors.passkeys.map((p) => `${p.name}${p.authenticator ? ` (${p.authenticator})` : ""}`).join(", ")}
              </li>
              <li>Backup codes left: {factors.backupCodesRemaining}</li>
            </ul>
            <ResetMfaForm userId={user.id} />
          </div>
        </Card>
        <Card title="Recent sign-ins" description="With the risk engine's score and decision; open one for its factors.">
          <SignInActivityTable rows={activity} forAdmin />
        </Card>
        <Card title="Devices">
          {devices.length === 0 ? (
            <p className="text-sm text-slate-500">No devices yet.</p>
          ) : (
            <ul className="divide-y divide-slate-100 text-sm">
              {devices.map((d) => (
                <li key={d.id} className="py-2">
                  <span className="font-medium">{d.label}</span>
                  {d.trustedUntil && <> · <Badge tone="green">Remembered until <LocalTime at={d.trustedUntil} /></Badge></>}
                  <span className="block text-xs text-slate-500">
                    First seen <LocalTime at={d.firstSeenAt} />, last seen <LocalTime at={d.lastSeenAt} />
                    {d.lastIp && ` from ${d.lastIp}`}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Delete account" description="For a leaver or an erasure request: the account, its sessions, factors, devices, app consents and tokens go for good. The audit trail keeps what happened, under its id and email. Disabling is the reversible choice.">
          <DeleteAccountForm userId={user.id} email={user.email} />
        </Card>
      </div>
    </>
  );
}

/** When the password was set, and whether a new one is due: a support call starts here. */
function PasswordStatus({ user }: { user: { passwordState: PasswordState; passwordResetRequiredAt: Date | null; password: { changedAt: Date } | null } }) {
  return (
    <div className="space-y-1 text-sm text-slate-700" data-testid="password-status">
      <p>{user.password ? <>Set <LocalTime at={user.password.changedAt} />.</> : "No password: this account signs in with a passkey only."}</p>
      {user.passwordState === "distrusted" && (
        <p>
          <Badge tone="amber">New password required</Badge> since <LocalTime at={user.passwordResetRequiredAt} />: the current password is distrusted. A sign-in with it
          needs a second factor or a passkey first; with the password alone it is refused and the user is mailed a recovery link. A temporary
          password below lets them in without one.
        </p>
      )}
      {user.passwordState === "temporary" && (
        <p>
          <Badge tone="amber">Temporary password</Badge> The user must replace it at the next sign-in.
        </p>
      )}
    </div>
  );
}
