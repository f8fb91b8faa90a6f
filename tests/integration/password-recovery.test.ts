import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { recoveryLinkAccount, requestPasswordRecovery, resetPasswordWithLink } from "@/lib/auth/recovery";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { findActiveSession } from "@/lib/auth/sessions";
import { changePassword, requirePasswordReset, setDisabled, storeNewPassword } from "@/lib/auth/users";
import { hashPassword } from "@/lib/auth/password";
import { ACCOUNT_FAILURE_LIMIT, lockAccountName } from "@/lib/auth/throttle";
import { resetDatabase } from "../support/db";
import { decodedMail, startSmtpSink } from "../support/smtp";
import { TEST_PASSWORD, client, ctx, makeUser, uniqueEmail } from "../support/factories";

// Self-service password recovery against a real SMTP server: the link arrives by mail, works once
// and only for 30 minutes, and the answers never tell whether an address has an account.

const NEW_PASSWORD = "a brand new passphrase";
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let mails: string[];

beforeAll(async () => {
  smtp = await startSmtpSink();
  mails = smtp.mails;
  process.env.GATEHOUSE_SMTP_URL = smtp.url;
});
afterAll(async () => {
  delete process.env.GATEHOUSE_SMTP_URL;
  await smtp.close();
});
beforeEach(async () => {
  mails.length = 0;
  await resetDatabase();
});

const anonymous = (ip = "198.51.100.80") => ({ actor: { type: "user" as const, id: null, label: null }, client: client(ip) });
const tokenIn = (mail: string) => /\/sign-in\/reset\?token=([\w-]+)/.exec(decodedMail(mail))?.[1];

async function linkFor(email: string, ip?: string): Promise<string> {
  const { delivery } = await requestPasswordRecovery(email, anonymous(ip));
  await delivery;
  const token = tokenIn(mails.at(-1) ?? "");
  if (!token) throw new Error("no recovery link was mailed");
  return token;
}

describe("password recovery", () => {
  it("after an incident's required reset, a password-only sign-in is refused and the owner is mailed a link instead", async () => {
    const user = await makeUser();
    await requirePasswordReset(user.id, "INC-7: credential stuffing", ctx);
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toEqual({ ok: false, reason: "refused", refusal: "password_distrusted" });
    await expect.poll(() => mails.length).toBe(1);
    expect(mails[0]).toContain(`To: ${user.email}`);
    const token = tokenIn(mails[0]!);
    expect(token).toBeDefined();
    const reset = await resetPasswordWithLink(token!, NEW_PASSWORD, anonymous());
    expect(reset).toMatchObject({ ok: true });
    if (reset.ok) await reset.delivery;
    // The mailbox was the proof: the new password signs in, with nothing left to change.
    const signedIn = await signInWithPassword({ email: user.email, password: NEW_PASSWORD }, client(), null);
    if (!signedIn.ok) throw new Error(`sign-in failed: ${signedIn.reason}`);
    expect(await findActiveSession(signedIn.sessionId)).toMatchObject({ stage: "active" });
  });

  it("refuses a guessable new password and keeps the link for a better one", async () => {
    const user = await makeUser();
    const token = await linkFor(user.email);
    expect(await resetPasswordWithLink(token, "password1234", anonymous())).toEqual({ ok: false, reason: "unacceptable_password", message: expect.stringContaining("too easy to guess") });
    expect(await recoveryLinkAccount(token)).toEqual({ email: user.email });
    expect(await db().auditEvent.findFirst({ where: { action: "password.recovery.complete", outcome: "failure", resourceId: user.id } })).toMatchObject({ metadata: { reason: "guessable" } });
    const reset = await resetPasswordWithLink(token, NEW_PASSWORD, anonymous());
    expect(reset).toMatchObject({ ok: true });
    if (reset.ok) await reset.delivery;
  });

  it("mails a one-time link that sets a new password, ends every session and is audited", async () => {
    const user = await makeUser();
    const signedIn = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    if (!signedIn.ok) throw new Error("sign-in failed");

    const token = await linkFor(user.email);
    expect(mails[0]).toContain(`To: ${user.email}`);
    expect(await recoveryLinkAccount(token)).toEqual({ email: user.email });
    // Only the token's hash is stored.
    expect(await db().passwordResetToken.count({ where: { tokenHash: token } })).toBe(0);

    const reset = await resetPasswordWithLink(token, NEW_PASSWORD, anonymous());
    expect(reset).toMatchObject({ ok: true, email: user.email });
    if (reset.ok) await reset.delivery;
    expect(decodedMail(mails.at(-1)!)).toContain("was just reset");
    expect(await findActiveSession(signedIn.sessionId)).toBeNull();
    const revoked = await db().auditEvent.findFirstOrThrow({ where: { action: "session.revoke_all", resourceId: user.id } });
    expect(revoked).toMatchObject({ actorId: user.id, metadata: { reason: "password_changed", sessionsEnded: 1, kept: null } });
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toMatchObject({ ok: false });
    expect(await signInWithPassword({ email: user.email, password: NEW_PASSWORD }, client(), null)).toMatchObject({ ok: true });

    // Once only.
    expect(await recoveryLinkAccount(token)).toBeNull();
    expect(await resetPasswordWithLink(token, "yet another passphrase", anonymous())).toEqual({ ok: false, reason: "invalid_link" });
    const actions = (await db().auditEvent.findMany({ where: { action: { startsWith: "password.recovery" } }, orderBy: { seq: "asc" } })).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(["password.recovery.request:success", "password.recovery.complete:success", "password.recovery.complete:failure"]);
  });

  it("answers an unknown or disabled address the same way, and mails nothing", async () => {
    expect(await requestPasswordRecovery(uniqueEmail("nobody"), anonymous())).toEqual({ delivery: null });
    const disabled = await makeUser();
    await makeUser({ roles: ["admin"] });
    await setDisabled(disabled.id, true, ctx);
    expect(await requestPasswordRecovery(disabled.email, anonymous())).toEqual({ delivery: null });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mails).toHaveLength(0);
  });

  it("refuses an expired link, and only the latest link works", async () => {
    const user = await makeUser();
    const first = await linkFor(user.email);
    const second = await linkFor(user.email);
    expect(await resetPasswordWithLink(first, NEW_PASSWORD, anonymous())).toEqual({ ok: false, reason: "invalid_link" });
    await db().passwordResetToken.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await recoveryLinkAccount(second)).toBeNull();
    expect(await resetPasswordWithLink(second, NEW_PASSWORD, anonymous())).toEqual({ ok: false, reason: "invalid_link" });
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toMatchObject({ ok: true });
  });

  it("limits requests per account and per address, without saying so", async () => {
    const user = await makeUser();
    for (let i = 0; i < 3; i++) await linkFor(user.email, "198.51.100.90");
    // Refused from that address, however often it asks (and without using up the account's total).
    for (let i = 0; i < 5; i++) expect(await requestPasswordRecovery(user.email, anonymous("198.51.100.90"))).toEqual({ delivery: null });
    expect(mails).toHaveLength(3);

    // Another address (the owner's own) still gets a link, until the account's cap of 10.
    for (let i = 0; i < 6; i++) await linkFor(user.email, `198.51.100.${100 + i}`);
    await linkFor(user.email, "203.0.113.7");
    expect(mails).toHaveLength(10);
    expect(await requestPasswordRecovery(user.email, anonymous("203.0.113.8"))).toEqual({ delivery: null });
    const blocked = await db().auditEvent.findMany({ where: { action: "password.recovery.request", outcome: "blocked" }, orderBy: { seq: "asc" } });
    expect(blocked.map((e) => (e.metadata as { reason: string }).reason)).toEqual([...Array(5).fill("too_many_for_account_from_ip"), "too_many_for_account"]);

    // Requests that send nothing (unknown addresses) do not use up an address's requests that send mail.
    for (let i = 0; i < 12; i++) await requestPasswordRecovery(uniqueEmail("typo"), anonymous("192.0.2.44"));
    const colleague = await makeUser();
    await linkFor(colleague.email, "192.0.2.44");
    expect(mails).toHaveLength(11);
    // Ten mails from one address to ten accounts, then that address sends no more to anyone.
    const victims = await Promise.all(Array.from({ length: 10 }, () => makeUser()));
    for (const victim of victims) await linkFor(victim.email, "192.0.2.45");
    expect(mails).toHaveLength(21);
    const other = await makeUser();
    expect(await requestPasswordRecovery(other.email, anonymous("192.0.2.45"))).toEqual({ delivery: null });
    expect(mails).toHaveLength(21);
  });

  it("a flood of made-up addresses from one address writes a bounded number of audit events", async () => {
    for (let i = 0; i < 105; i++) await requestPasswordRecovery(uniqueEmail("flood"), anonymous("192.0.2.46"));
    const events = await db().auditEvent.findMany({ where: { action: "password.recovery.request" }, select: { outcome: true } });
    expect(events.filter((e) => e.outcome === "failure")).toHaveLength(100);
    expect(events.filter((e) => e.outcome === "blocked")).toHaveLength(1);
  });

  it("counts an IPv6 subscriber's /64 as one address", async () => {
    const user = await makeUser();
    for (let i = 1; i <= 3; i++) await linkFor(user.email, `2001:db8:7:7::${i}`);
    expect(await requestPasswordRecovery(user.email, anonymous("2001:db8:7:7:ffff::9"))).toEqual({ delivery: null });
    await linkFor(user.email, "2001:db8:7:8::1");
    expect(mails).toHaveLength(4);
  });

  it("a new password and the end of the other sessions commit together: none is left for after the commit", async () => {
    const user = await makeUser();
    const signIn = async () => {
      const signedIn = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
      if (!signedIn.ok) throw new Error("sign-in failed");
      return signedIn.sessionId;
    };
    const [current, other] = [await signIn(), await signIn()];
    const hash = await hashPassword(NEW_PASSWORD);
    // Rolled back (the process stopping before the commit, say): the password and the sessions stay as they were.
    await expect(db().$transaction(async (tx) => {
      await storeNewPassword(tx, user.id, hash, new Date(), { keepSessionId: current });
      throw new Error("stopped before the commit");
    })).rejects.toThrow("stopped before the commit");
    expect(await findActiveSession(other)).not.toBeNull();
    // Committed: the other session ended with it, before anything else runs.
    expect(await db().$transaction((tx) => storeNewPassword(tx, user.id, hash, new Date(), { keepSessionId: current }))).toBe(1);
    expect(await findActiveSession(other)).toBeNull();
    expect(await findActiveSession(current)).not.toBeNull();
  });

  it("two requests with one link: one sets the password, the other is refused", async () => {
    const user = await makeUser();
    const token = await linkFor(user.email);
    const results = await Promise.all([resetPasswordWithLink(token, NEW_PASSWORD, anonymous()), resetPasswordWithLink(token, "the other passphrase", anonymous())]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: "invalid_link" }]);
  });

  it("ends the apps' grants and tokens and the remembered devices too", async () => {
    const user = await makeUser();
    await db().oAuthConsent.create({ data: { userId: user.id, clientId: "mail-app", grantId: "grant-1", scopes: ["openid"] } });
    await db().oidcModel.create({ data: { kind: "RefreshToken", id: "rt-hash", grantId: "grant-1", payload: { accountId: user.id, clientId: "mail-app" }, accountId: user.id, clientId: "mail-app" } });
    await db().device.create({ data: { userId: user.id, tokenHash: "device-hash", label: "Laptop", trustedUntil: new Date(Date.now() + 86_400_000) } });
    expect(await resetPasswordWithLink(await linkFor(user.email), NEW_PASSWORD, anonymous())).toMatchObject({ ok: true });
    expect(await db().oAuthConsent.count({ where: { userId: user.id } })).toBe(0);
    expect(await db().oidcModel.count()).toBe(0);
    expect((await db().device.findFirstOrThrow({ where: { userId: user.id } })).trustedUntil).toBeNull();
  });

  it("keeps a required reset meaningful: the same password is refused, and the requirement stays", async () => {
    const user = await makeUser();
    const token = await linkFor(user.email);
    await db().user.update({ where: { id: user.id }, data: { passwordResetRequiredAt: new Date() } });
    expect(await resetPasswordWithLink(token, TEST_PASSWORD, anonymous())).toEqual({ ok: false, reason: "same_password" });
    // Also once the account name's tries are spent (someone guessing): a distrusted password is never taken back.
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) await resetPasswordWithLink(token, TEST_PASSWORD, anonymous());
    expect(await resetPasswordWithLink(token, TEST_PASSWORD, anonymous())).toEqual({ ok: false, reason: "same_password" });
    expect((await db().user.findUniqueOrThrow({ where: { id: user.id } })).passwordResetRequiredAt).not.toBeNull();
  });

  it("answers no more guesses of the current password than a sign-in would: each spends one of the account name's tries", async () => {
    const user = await makeUser();
    const token = await linkFor(user.email);
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) expect(await resetPasswordWithLink(token, TEST_PASSWORD, anonymous())).toEqual({ ok: false, reason: "same_password" });
    expect(await db().auditEvent.count({ where: { action: "account.lockout", resourceId: user.id } })).toBe(1);
    // Locked as after five wrong passwords: the owner sees it at sign-in.
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toMatchObject({ ok: false, reason: "throttled" });
    // With the tries spent nothing is compared: the link still works (recovery is how a locked-out owner gets back in).
    expect(await resetPasswordWithLink(token, NEW_PASSWORD, anonymous())).toMatchObject({ ok: true });
    expect(await signInWithPassword({ email: user.email, password: NEW_PASSWORD }, client(), null)).toMatchObject({ ok: true });
  });

  it("a link ends when the password changes another way, the account is disabled or a reset is required", async () => {
    const changed = await makeUser();
    const token = await linkFor(changed.email);
    const signedIn = await signInWithPassword({ email: changed.email, password: TEST_PASSWORD }, client(), null);
    if (!signedIn.ok) throw new Error("sign-in failed");
    expect(await changePassword({ id: changed.id, email: changed.email, sessionId: signedIn.sessionId }, TEST_PASSWORD, "changed by its owner", ctx)).toMatchObject({ ok: true });
    expect(await recoveryLinkAccount(token)).toBeNull();

    await makeUser({ roles: ["admin"] });
    const disabled = await makeUser();
    const disabledToken = await linkFor(disabled.email);
    await setDisabled(disabled.id, true, ctx);
    await setDisabled(disabled.id, false, ctx);
    expect(await resetPasswordWithLink(disabledToken, NEW_PASSWORD, anonymous())).toEqual({ ok: false, reason: "invalid_link" });

    const suspect = await makeUser();
    const suspectToken = await linkFor(suspect.email);
    await requirePasswordReset(suspect.id, "credentials seen in a breach", ctx);
    expect(await recoveryLinkAccount(suspectToken)).toBeNull();
  });

  it("a deliberate lock stops recovery: no link is sent, and a link sent before does not work", async () => {
    const user = await makeUser();
    const token = await linkFor(user.email);
    await lockAccountName(user.email, new Date(Date.now() + 3_600_000));
    expect(await resetPasswordWithLink(token, NEW_PASSWORD, anonymous())).toEqual({ ok: false, reason: "invalid_link" });
    expect(await requestPasswordRecovery(user.email, anonymous("198.51.100.81"))).toEqual({ delivery: null });
  });

  it("two requests at once leave one working link", async () => {
    const user = await makeUser();
    await Promise.all([requestPasswordRecovery(user.email, anonymous("198.51.100.82")), requestPasswordRecovery(user.email, anonymous("198.51.100.83"))]);
    expect(await db().passwordResetToken.count({ where: { userId: user.id, usedAt: null } })).toBe(1);
  });

  it("bounds reset attempts per IP (each may cost a password hash)", async () => {
    for (let i = 0; i < 20; i++) expect(await resetPasswordWithLink(`forged-${i}`, NEW_PASSWORD, anonymous("198.51.100.84"))).toEqual({ ok: false, reason: "invalid_link" });
    expect(await resetPasswordWithLink("forged-21", NEW_PASSWORD, anonymous("198.51.100.84"))).toEqual({ ok: false, reason: "too_many" });
  });
});

