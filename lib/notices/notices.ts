// Which audit events a user is told about by mail, and what the mail says. Pure: no database, no
// mail (lib/notices/index.ts delivers). People notice an attacker's work in their own account
// sooner than anyone: a sign-in from a browser they have never used, a password or a factor they
// did not change. Each mail says what happened, when and from where, and what to do if it was not
// them.
import type { AuditEventView } from "../audit/search";
import { describeDevice } from "../devices/describe";

export type NoticeEvent = Pick<AuditEventView, "id" | "seq" | "at" | "action" | "outcome" | "actorType" | "actorId" | "resourceType" | "resourceId" | "ip" | "userAgent" | "location" | "metadata">;

export const NOTICE_KINDS = [
  "new_device_sign_in", "password_changed", "factor_added", "factor_removed", "backup_codes_created", "backup_code_used", "factors_reset_by_admin", "password_reset_by_admin",
  "email_changed_by_admin", "sign_in_stopped",
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** What the mail needs, all of it from the audit event (queued as a job, so plain JSON). */
export type UserNotice = {
  auditSeq: string;
  userId: string;
  kind: NoticeKind;
  at: string;
  /** What was added or removed, how the sign-in went on ("a passkey", "still needs the second factor"), or the address an email change left. */
  detail: string | null;
  device: string | null;
  place: string | null;
  ip: string | null;
};

const FACTOR_NAMES: Record<string, string> = { totp: "an authenticator app", passkey: "a passkey" };

function kindOf(event: NoticeEvent): { kind: NoticeKind; detail: string | null } | null {
  const metadata = event.metadata as Record<string, unknown>;
  // The first factor was right, and the risk engine stopped the sign-in: whoever tried holds the
  // password (or a passkey). Not when the password was distrusted: the owner is mailed a recovery link.
  if (event.action === "risk.sign_in_blocked" || (event.action === "risk.sign_in_refused" && metadata.reason !== "password_distrusted")) {
    return { kind: "sign_in_stopped", detail: typeof metadata.lockedUntil === "string" ? `Password sign-in to the account is locked until ${metadata.lockedUntil.slice(0, 16).replace("T", " ")} UTC.` : null };
  }
  if (event.outcome !== "success") return null;
  switch (event.action) {
    case "auth.sign_in":
      if (metadata.newDevice !== true) return null;
      return { kind: "new_device_sign_in", detail: metadata.stage === "active" ? null : "Your password was accepted; the sign-in then still had to pass its next step (such as your second factor)." };
    case "password.change":
    case "password.reset_completed":
      return { kind: "password_changed", detail: null };
    case "mfa.totp.enroll":
    case "mfa.passkey.register":
      return { kind: "factor_added", detail: FACTOR_NAMES[event.action.split(".")[1]!]! };
    case "mfa.totp.remove":
    case "mfa.passkey.remove":
      return { kind: "factor_removed", detail: FACTOR_NAMES[event.action.split(".")[1]!]! };
    case "mfa.backup_codes.generate":
      return { kind: "backup_codes_created", detail: null };
    case "mfa.verify":
      return metadata.method === "backup_code" ? { kind: "backup_code_used", detail: null } : null;
    case "mfa.reset":
      return { kind: "factors_reset_by_admin", detail: null };
    case "password.reset_required":
    case "password.temporary_set":
      return { kind: "password_reset_by_admin", detail: null };
    case "user.email.change":
      return typeof metadata.before === "string" ? { kind: "email_changed_by_admin", detail: metadata.before } : null;
    // password.recovery.complete: lib/auth/recovery.ts mails its own notice, to the person who is
    // there at that moment.
    default:
      return null;
  }
}

/** The account an event happened to: its resource when that is a user, else the user who acted. */
function accountOf(event: NoticeEvent): string | null {
  if (event.resourceType === "user") return event.resourceId;
  return event.actorType === "user" ? event.actorId : null;
}

export function userNoticeFor(event: NoticeEvent): UserNotice | null {
  const found = kindOf(event);
  const userId = accountOf(event);
  if (!found || !userId) return null;
  // Where it happened is told only of the owner's own doing: an admin's reset came from the
  // admin's browser and address, which are not the user's to know.
  const ownDoing = event.actorType === "user" && event.actorId === userId;
  return {
    auditSeq: event.seq, userId, kind: found.kind, detail: found.detail, at: new Date(event.at).toISOString(),
    device: ownDoing && event.userAgent ? describeDevice(event.userAgent).label : null,
    place: ownDoing ? event.location : null,
    ip: ownDoing ? event.ip : null,
  };
}

const SUBJECTS: Record<NoticeKind, string> = {
  new_device_sign_in: "New sign-in to your Gatehouse account",
  password_changed: "Your Gatehouse password was changed",
  factor_added: "A sign-in method was added to your Gatehouse account",
  factor_removed: "A sign-in method was removed from your Gatehouse account",
  backup_codes_created: "New backup codes for your Gatehouse account",
  backup_code_used: "A backup code was used on your Gatehouse account",
  factors_reset_by_admin: "An administrator reset your Gatehouse sign-in methods",
  password_reset_by_admin: "An administrator reset your Gatehouse password",
  email_changed_by_admin: "The email address of your Gatehouse account was changed",
  sign_in_stopped: "A sign-in to your Gatehouse account was stopped",
};

function whatHappened(notice: UserNotice): string {
  switch (notice.kind) {
    case "new_device_sign_in":
      return `Your account was signed in to from a browser it had not seen before.${notice.detail ? `\n${notice.detail}` : ""}`;
    case "password_changed":
      return "The password of your account was changed.";
    case "factor_added":
      return `${notice.detail ?? "A sign-in method"} was added to your account as a second factor.`;
    case "factor_removed":
      return `${notice.detail ?? "A sign-in method"} was removed from your account.`;
    case "backup_codes_created":
      return "A new set of backup codes was created for your account. The codes you had before no longer work.";
    case "backup_code_used":
      return "One of your backup codes was used as the second factor of a sign-in. It cannot be used again.";
    case "factors_reset_by_admin":
      return "An administrator removed the second factors of your account (authenticator app, passkeys and backup codes). You will be asked to set one up at your next sign-in.";
    case "password_reset_by_admin":
      return "An administrator reset your password: you will choose a new one at your next sign-in.";
    case "email_changed_by_admin":
      // The new address is not named: the old mailbox may be the one the change takes the account away from.
      return `An administrator changed the sign-in email of your account from ${notice.detail ?? "this address"} to another address. Security notices and password recovery links go there from now on. If you did not ask for this, contact your administrator.`;
    case "sign_in_stopped":
      return `Someone signed in to your account with your password or a passkey, and the sign-in was stopped because it looked too risky (an unusual place, network or device).${notice.detail ? `\n${notice.detail}` : ""}`;
  }
}

/**
 * The kinds mailed at most once per quarter hour (lib/notices/index.ts): what someone holding only
 * the password can repeat at will, signing in again and again from fresh browsers, and must not
 * bury the owner in mail with. A change to the account's sign-in methods, password or address is
 * always mailed: the owner's own change must not hide an attacker's made minutes later with a
 * stolen session (each is made from a signed-in session or by an admin, not by a password alone).
 */
export const THROTTLED_NOTICE_KINDS: ReadonlySet<NoticeKind> = new Set(["new_device_sign_in", "sign_in_stopped"]);

/** Which throttled notices count as one: a kind, for one account. */
export const noticeSeries = (notice: UserNotice) => `${notice.userId}:${notice.kind}`;

/** The mail for a notice, in plain text. `accountUrl` is where the user reviews their security. */
export function noticeMail(notice: UserNotice, user: { name: string; email: string }, accountUrl: string): { to: string; subject: string; text: string } {
  const when = `${notice.at.slice(0, 16).replace("T", " ")} UTC`;
  const facts = [
    `  When:   ${when}`,
    notice.device ? `  Device: ${notice.device}` : null,
    notice.place || notice.ip ? `  Where:  ${[notice.place ? `near ${notice.place}` : null, notice.ip ? `IP address ${notice.ip}` : null].filter(Boolean).join(", ")}` : null,
  ].filter(Boolean).join("\n");
  const text = `Hello ${user.name},

${whatHappened(notice)}

${facts}

If this was you, there is nothing to do.
If it was not, change your password now and review your sign-in methods, devices and sessions at
${accountUrl}
("This wasn't me" there signs that browser out and alerts your administrators.)

This is an automatic security notice from Gatehouse${THROTTLED_NOTICE_KINDS.has(notice.kind) ? " (at most one of a kind each quarter hour)" : ""}; it cannot be turned off.
`;
  // An email change is told to the address it left: the new one's holder did it, or was given it.
  const to = notice.kind === "email_changed_by_admin" && notice.detail ? notice.detail : user.email;
  return { to, subject: SUBJECTS[notice.kind], text };
}
