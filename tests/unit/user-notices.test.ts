import { describe, expect, it } from "vitest";
import { noticeMail, userNoticeFor, type NoticeEvent, type UserNotice } from "@/lib/notices/notices";

const CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36";
const base: NoticeEvent = {
  id: "9b1c8a6e-0000-4000-8000-000000000001", seq: "41", at: "2026-12-04T10:12:30.000Z", action: "auth.sign_in", outcome: "success",
  actorType: "user", actorId: "user-1", resourceType: "session", resourceId: "session-1", ip: "203.0.113.5", userAgent: CHROME_LINUX, location: "Berlin, DE", metadata: { newDevice: true, stage: "active" },
} as NoticeEvent;
const event = (fields: Partial<NoticeEvent>): NoticeEvent => ({ ...base, ...fields }) as NoticeEvent;

describe("which events users are told about", () => {
  it("a sign-in from a new browser, with when, what and where; not one from a known browser or a failure", () => {
    expect(userNoticeFor(base)).toEqual({
      auditSeq: "41", userId: "user-1", kind: "new_device_sign_in", at: "2026-12-04T10:12:30.000Z", detail: null, device: expect.stringMatching(/Chrome/), place: "Berlin, DE", ip: "203.0.113.5",
    });
    expect(userNoticeFor(event({ metadata: { newDevice: true, stage: "mfa_required" } }))?.detail).toMatch(/password was accepted/);
    expect(userNoticeFor(event({ metadata: { newDevice: false, stage: "active" } }))).toBeNull();
    expect(userNoticeFor(event({ outcome: "failure" }))).toBeNull();
  });

  it("changes to the password and the factors, made by the user or by an admin, go to the account they touched", () => {
    const byAdmin = { actorType: "user" as const, actorId: "admin-1", resourceType: "user", resourceId: "user-1" };
    expect(userNoticeFor(event({ action: "password.change", ...byAdmin, resourceId: "user-1", actorId: "user-1" }))).toMatchObject({ kind: "password_changed", userId: "user-1" });
    expect(userNoticeFor(event({ action: "mfa.passkey.register", resourceType: "passkey", resourceId: "pk-1" }))).toMatchObject({ kind: "factor_added", userId: "user-1", detail: "a passkey" });
    expect(userNoticeFor(event({ action: "mfa.totp.remove", ...byAdmin }))).toMatchObject({ kind: "factor_removed", detail: "an authenticator app" });
    // An admin's browser and address are not told to the user.
    expect(userNoticeFor(event({ action: "mfa.reset", ...byAdmin }))).toMatchObject({ kind: "factors_reset_by_admin", userId: "user-1", device: null, place: null, ip: null });
    expect(userNoticeFor(event({ action: "password.temporary_set", ...byAdmin }))).toMatchObject({ kind: "password_reset_by_admin", userId: "user-1" });
    expect(userNoticeFor(event({ action: "mfa.verify", ...byAdmin, actorId: "user-1", metadata: { method: "backup_code" } }))).toMatchObject({ kind: "backup_code_used" });
    expect(userNoticeFor(event({ action: "mfa.verify", metadata: { method: "totp" } }))).toBeNull();
    // A right password (or passkey) the risk engine stopped: whoever tried holds it, the owner is told.
    const stopped = { actorId: "user-1", resourceType: "user", resourceId: "user-1", outcome: "blocked" as const };
    expect(userNoticeFor(event({ action: "risk.sign_in_blocked", ...stopped, metadata: { lockedUntil: "2026-12-04T11:12:30.000Z" } })))
      .toMatchObject({ kind: "sign_in_stopped", userId: "user-1", detail: "Password sign-in to the account is locked until 2026-12-04 11:12 UTC.", place: "Berlin, DE", ip: "203.0.113.5" });
    expect(userNoticeFor(event({ action: "risk.sign_in_refused", ...stopped, metadata: { reason: "second_factor_unavailable" } }))).toMatchObject({ kind: "sign_in_stopped", detail: null });
    // A distrusted password: the owner is mailed a recovery link instead.
    expect(userNoticeFor(event({ action: "risk.sign_in_refused", ...stopped, metadata: { reason: "password_distrusted" } }))).toBeNull();
    // Blocked attempts and events of no account are not mailed.
    expect(userNoticeFor(event({ action: "mfa.totp.remove", outcome: "blocked", ...byAdmin }))).toBeNull();
    expect(userNoticeFor(event({ actorType: "system", actorId: null }))).toBeNull();
  });
});

describe("the notice mail", () => {
  const notice: UserNotice = { auditSeq: "41", userId: "user-1", kind: "new_device_sign_in", at: "2026-12-04T10:12:30.000Z", detail: null, device: "Chrome on Linux", place: "Berlin, DE", ip: "203.0.113.5" };

  it("says what happened, when, on what and from where, and what to do if it was not them", () => {
    const mail = noticeMail(notice, { name: "Ada", email: "ada@example.test" }, "https://id.example.test/account/security");
    expect(mail).toMatchObject({ to: "ada@example.test", subject: "New sign-in to your Gatehouse account" });
    expect(mail.text).toContain("Hello Ada,");
    expect(mail.text).toContain("When:   2026-12-04 10:12 UTC");
    expect(mail.text).toContain("Device: Chrome on Linux");
    expect(mail.text).toContain("Where:  near Berlin, DE, IP address 203.0.113.5");
    expect(mail.text).toContain("https://id.example.test/account/security");
  });

  it("tells the address an admin's email change left, without naming the new one", () => {
    const changed = userNoticeFor(event({ action: "user.email.change", actorId: "admin-1", resourceType: "user", resourceId: "user-1", metadata: { before: "ada@old.example.test", after: "ada@new.example.test" } }));
    expect(changed).toMatchObject({ kind: "email_changed_by_admin", userId: "user-1", detail: "ada@old.example.test", ip: null });
    const mail = noticeMail(changed!, { name: "Ada", email: "ada@new.example.test" }, "https://x.test/account/security");
    expect(mail).toMatchObject({ to: "ada@old.example.test", subject: "The email address of your Gatehouse account was changed" });
    expect(mail.text).toContain("from ada@old.example.test to another address");
    // The old mailbox may be the one the change takes the account away from: where it went is not said.
    expect(mail.text).not.toContain("ada@new.example.test");
    // Moved on again before the mail went: each address is told of the change that left it.
    const again = userNoticeFor(event({ action: "user.email.change", actorId: "admin-1", resourceType: "user", resourceId: "user-1", metadata: { before: "ada@new.example.test", after: "ada@third.example.test" } }));
    const [first, second] = [changed!, again!].map((n) => noticeMail(n, { name: "Ada", email: "ada@third.example.test" }, "https://x.test/account/security"));
    expect(first).toMatchObject({ to: "ada@old.example.test", text: expect.stringContaining("from ada@old.example.test to another address") });
    expect(second).toMatchObject({ to: "ada@new.example.test", text: expect.stringContaining("from ada@new.example.test to another address") });
    expect(second!.text).not.toContain("ada@third.example.test");
  });

  it("leaves out what it does not know", () => {
    const mail = noticeMail({ ...notice, kind: "backup_codes_created", device: null, place: null, ip: null }, { name: "Ada", email: "ada@example.test" }, "https://x.test/account/security");
    expect(mail.subject).toBe("New backup codes for your Gatehouse account");
    expect(mail.text).toContain("no longer work");
    expect(mail.text).not.toMatch(/Device:|Where:/);
  });
});
