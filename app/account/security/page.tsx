import type { Metadata } from "next";
import { Card } from "@/components/ui/card";
import { ActionButton } from "@/components/ui/action-form";
import { Badge } from "@/components/ui/badge";
import { Notice } from "@/components/ui/notice";
import { PageHeader } from "@/components/shell/page-header";
import { SessionsTable } from "@/components/sessions-table";
import { PasskeyRegistration } from "@/components/mfa/passkey-registration";
import { RegenerateBackupCodes } from "@/components/mfa/regenerate-backup-codes";
import { RenamePasskey } from "@/components/mfa/rename-passkey";
import { TotpEnrollment } from "@/components/mfa/totp-enrollment";
import { listActiveSessions, MIN_PASSWORD_LENGTH, requireUser, sessionLimitsText } from "@/lib/auth";
import { listDevices } from "@/lib/devices";
import { BACKUP_CODE_COUNT, BACKUP_CODES_LOW, factorSummary } from "@/lib/mfa";
import { recentSignIns } from "@/lib/risk";
import { securityNoticesByMail } from "@/lib/notices";
import { SignInActivityTable } from "@/components/risk/sign-in-activity";
import { LocalTime } from "@/components/ui/local-time";
import { reportSignInAction, revokeOtherSessionsAction, revokeSessionAction } from "../actions";
import {
  confirmTotpEnrollmentAction, passkeyRegistrationOptionsAction, regenerateBackupCodesAction, registerPasskeyAction,
  removePasskeyAction, removeTotpAction, renamePasskeyAction, revokeDeviceTrustAction, startTotpEnrollmentAction,
} from "./mfa-actions";
import { PasswordForm } from "./password-form";

export const metadata: Metadata = { title: "Security" };

const REPORTED = {
  "signed-out": "Reported. That sign-in's session is signed out, its browser is no longer a known device, and your security team is alerted. If it used your password, change it below.",
  noted: "Reported to your security team. If that sign-in used your password, change it below.",
} as const;

export default async function SecurityPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser();
  const { reported } = await searchParams;
  const reportedText = typeof reported === "string" && reported in REPORTED ? REPORTED[reported as keyof typeof REPORTED] : null;
  const [sessions, factors, devices, activity] = await Promise.all([listActiveSessions(user.id), factorSummary(user), listDevices(user.id), recentSignIns(user.id)]);
  const hasFactor = !!factors.totp || factors.passkeys.length > 0;
  const trusted = devices.filter((d) => d.trustedUntil);
  return (
    <>
      <PageHeader
        title="Security"
        description={`Your password, second factors, and where you are signed in.${securityNoticesByMail() ? ` Gatehouse emails ${user.email} when a new browser signs in or your password or sign-in methods change.` : ""}`}
      />
      <div className="space-y-6">
        {reportedText && <Notice>{reportedText}</Notice>}
        <Card title="Password">
          <PasswordForm minLength={MIN_PASSWORD_LENGTH} />
        </Card>

        <Card
          title="Authenticator app"
          description={factors.mfaRequired ? "Your role requires a second factor: keep at least one authenticator app or passkey." : "Codes from an app such as 1Password, Google Authenticator or Authy."}
        >
          {factors.totp ? (
            <div className="flex items-center justify-between gap-4" data-testid="totp-status">
              <p className="text-sm text-slate-700">
                <Badge tone="green">On</Badge> since <LocalTime at={factors.totp.activatedAt} />
                {factors.totp.lastUsedAt && <>, last used <LocalTime at={factors.totp.lastUsedAt} /></>}
              </p>
              <ActionButton action={removeTotpAction} label="Remove" variant="danger" confirm="Remove the authenticator app from your account?" />
            </div>
          ) : (
            <TotpEnrollment startAction={startTotpEnrollmentAction} confirmAction={confirmTotpEnrollmentAction} />
          )}
        </Card>

        <Card title="Passkeys and security keys" description="Sign in without a password, or use one as your second factor. Your device checks your fingerprint, face or PIN.">
          <div className="space-y-4">
            {factors.passkeys.length > 0 && (
              <ul className="divide-y divide-slate-100">
                {factors.passkeys.map((p) => (
                  <li key={p.id} data-testid="passkey-row" className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
                    <div>
                      <p className="font-medium text-slate-900">
                        {p.name} {p.synced && <Badge tone="neutral">Synced</Badge>}
                      </p>
                      <p className="text-xs text-slate-500">
                        {p.authenticator ? `${p.authenticator} · ` : ""}Added <LocalTime at={p.createdAt} /> · {p.lastUsedAt ? <>last used <LocalTime at={p.lastUsedAt} /></> : "never used"}
                      </p>
                    </div>
                    <div className="flex items-center gap-2">
                      <RenamePasskey action={renamePasskeyAction} passkeyId={p.id} name={p.name} />
                      <ActionButton action={removePasskeyAction} fields={{ passkeyId: p.id }} label="Remove" variant="danger" confirm={`Remove the passkey “${p.name}”?`} />
                    </div>
                  </li>
                ))}
              </ul>
            )}
            <PasskeyRegistration optionsAction={passkeyRegistrationOptionsAction} registerAction={registerPasskeyAction} />
          </div>
        </Card>

        <Card title="Backup codes" description="Single-use codes for when your phone or key is not at hand.">
          {hasFactor ? (
            <div className="space-y-3">
              <p className="text-sm text-slate-700" data-testid="backup-codes-remaining">
                {factors.backupCodesRemaining} of {BACKUP_CODE_COUNT} codes left.
              </p>
              {factors.backupCodesRemaining <= BACKUP_CODES_LOW && (
                <p role="alert" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
                  {factors.backupCodesRemaining === 0 ? "You have no backup codes left." : "You are running out of backup codes."} Generate a new set.
                </p>
              )}
              <RegenerateBackupCodes action={regenerateBackupCodesAction} label="Generate new codes" />
            </div>
          ) : (
            <p className="text-sm text-slate-600">Set up an authenticator app or a passkey first; backup codes come with it.</p>
          )}
        </Card>

        <Card
          title="Active sessions"
          description={`Every browser signed in to your account. Sign out any you do not recognise, then change your password. ${sessionLimitsText()}`}
          actions={
            sessions.length > 1 ? (
              <ActionButton action={revokeOtherSessionsAction} label="Sign out all other sessions" variant="danger" confirm="Sign out every other session?" />
            ) : null
          }
        >
          <SessionsTable sessions={sessions} currentSessionId={user.sessionId} revokeAction={revokeSessionAction} />
        </Card>

        <Card title="Recent sign-in activity" description="Every attempt to sign in to your account, with where it came from. Report any you do not recognise.">
          <SignInActivityTable
            rows={activity}
            action={(a) =>
              a.reportedAt ? (
                <span className="text-xs text-slate-500">Reported</span>
              ) : a.sessionId === user.sessionId ? (
                <span className="text-xs text-slate-500">This session</span>
              ) : (
                <ActionButton
                  action={reportSignInAction}
                  fields={{ attemptId: a.id }}
                  label="This wasn’t me"
                  variant="danger"
                  confirm="Report this sign-in? Its session is signed out and your security team is alerted."
                />
              )
            }
          />
        </Card>

        <Card
          title="Devices"
          description="Browsers you have signed in from: each one remembered or signed in now, and the 50 seen last. A remembered device skips the second factor for 30 days."
          actions={trusted.length > 1 ? <ActionButton action={revokeDeviceTrustAction} label="Forget all remembered devices" variant="danger" /> : null}
        >
          {devices.length === 0 ? (
            <p className="text-sm text-slate-500">No devices yet.</p>
          ) : (
            <ul className="divide-y divide-slate-100">
              {devices.map((d) => (
                <li key={d.id} data-testid="device-row" className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
                  <div>
                    <p className="font-medium text-slate-900">
                      {d.label} {d.trustedUntil && <Badge tone="green">Remembered until <LocalTime at={d.trustedUntil} /></Badge>}
                    </p>
                    <p className="text-xs text-slate-500">
                      Last seen <LocalTime at={d.lastSeenAt} />
                      {d.lastIp && ` from ${d.lastIp}`}
                      {d.location && ` (${d.location})`} · {d.activeSessions} active session{d.activeSessions === 1 ? "" : "s"}
                    </p>
                  </div>
                  {d.trustedUntil && <ActionButton action={revokeDeviceTrustAction} fields={{ deviceId: d.id }} label="Forget" variant="danger" />}
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}
