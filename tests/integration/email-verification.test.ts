import { createHash } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { userContext } from "@/lib/audit/context";
import { emailVerificationLinkAddress, emailVerifiedAt, sendEmailVerification, verifyEmailWithLink } from "@/lib/auth/email-verification";
import { requestPasswordRecovery, resetPasswordWithLink } from "@/lib/auth/recovery";
import { changeEmail, findEnabledAccount, setDisabled } from "@/lib/auth/users";
import { resetDatabase } from "../support/db";
import { decodedMail } from "../support/smtp";
import { mailSinkForFile } from "../support/mail-sink";
import { client, ctx, makeUser, uniqueEmail } from "../support/factories";

// Confirming an account's email address with a mailed link, against a real SMTP server: the link
// works once, for 24 hours, for the address it was sent to; apps then see email_verified.

const smtp = mailSinkForFile();
beforeEach(async () => {
  smtp.mails.length = 0;
  await resetDatabase();
});

const anonymous = { actor: { type: "user" as const, id: null, label: null }, client: client("198.51.100.90") };
const tokenIn = (mail: string) => /\/verify-email\?token=([\w-]+)/.exec(decodedMail(mail))?.[1];

async function mailedLink(user: Awaited<ReturnType<typeof makeUser>>, now = new Date()): Promise<string> {
  const sent = await sendEmailVerification(user.id, userContext(user, client()), now);
  if (!sent.ok) throw new Error(`not sent: ${sent.reason}`);
  await sent.delivery;
  const mail = smtp.mails.at(-1)!;
  expect(mail).toContain(`To: ${user.email}`);
  return tokenIn(mail)!;
}

describe("email verification", () => {
  it("a mailed link confirms the address once, and apps then see it verified", async () => {
    const user = await makeUser();
    expect(await findEnabledAccount(user.id)).toMatchObject({ emailVerified: false });
    const token = await mailedLink(user);
    // Opening the page (what a mail scanner does) spends nothing.
    expect(await emailVerificationLinkAddress(token)).toBe(user.email);
    expect(await emailVerificationLinkAddress(token)).toBe(user.email);
    expect(await emailVerifiedAt(user.id)).toBeNull();

    expect(await verifyEmailWithLink(token, anonymous)).toEqual({ ok: true, email: user.email });
    expect(await emailVerifiedAt(user.id)).toBeInstanceOf(Date);
    expect(await findEnabledAccount(user.id)).toMatchObject({ emailVerified: true });
    // Replayed, or forged: refused.
    expect(await verifyEmailWithLink(token, anonymous)).toEqual({ ok: false, reason: "invalid_link" });
    expect(await verifyEmailWithLink("made-up-token", anonymous)).toEqual({ ok: false, reason: "invalid_link" });
    expect(await emailVerificationLinkAddress(token)).toBeNull();
    expect(await sendEmailVerification(user.id, userContext(user, client()))).toEqual({ ok: false, reason: "already_verified" });

    const events = await db().auditEvent.findMany({ where: { action: { startsWith: "email.verification." } }, orderBy: { seq: "asc" }, select: { action: true, outcome: true, actorId: true } });
    expect(events.map((e) => `${e.action} ${e.outcome}`)).toEqual([
      "email.verification.send success", "email.verification.complete success", "email.verification.complete failure",
      "email.verification.complete failure", "email.verification.send failure",
    ]);
    // The completion is the owner's act, whoever's browser opened the link; a refused one is the caller's.
    expect(events[1]!.actorId).toBe(user.id);
    expect(events[2]!.actorId).toBeNull();
    // The token itself is nowhere in the database, only its hash.
    expect(await db().emailVerificationToken.count({ where: { tokenHash: token } })).toBe(0);
  });

  it("only the latest link works, within 24 hours, and only for the address the account still has", async () => {
    const user = await makeUser();
    const first = await mailedLink(user);
    const second = await mailedLink(user);
    expect(await verifyEmailWithLink(first, anonymous)).toMatchObject({ ok: false });

    const later = new Date(Date.now() + 25 * 60 * 60_000);
    expect(await verifyEmailWithLink(second, anonymous, later)).toMatchObject({ ok: false });
    expect(await emailVerifiedAt(user.id)).toBeNull();

    // An admin changes the address: a link to the old one verifies nothing.
    const third = await mailedLink(user);
    const newEmail = uniqueEmail("moved");
    await changeEmail(user.id, newEmail, ctx);
    expect(await emailVerificationLinkAddress(third)).toBeNull();
    expect(await verifyEmailWithLink(third, anonymous)).toMatchObject({ ok: false });
    expect(await emailVerifiedAt(user.id)).toBeNull();

    // A link for another address than the account's (however it came to be stored) verifies nothing.
    const stray = "stray-link-token";
    await db().emailVerificationToken.create({ data: { tokenHash: createHash("sha256").update(stray).digest("hex"), userId: user.id, email: user.email, expiresAt: new Date(Date.now() + 60_000) } });
    expect(await emailVerificationLinkAddress(stray)).toBeNull();
    expect(await verifyEmailWithLink(stray, anonymous)).toEqual({ ok: false, reason: "invalid_link" });
    expect(await emailVerifiedAt(user.id)).toBeNull();

    // Disabled and enabled again: links sent before do not work.
    const beforeDisable = await mailedLink({ ...user, email: newEmail });
    await setDisabled(user.id, true, ctx);
    await setDisabled(user.id, false, ctx);
    expect(await verifyEmailWithLink(beforeDisable, anonymous)).toMatchObject({ ok: false });

    // A verified address, changed: the new one is not verified.
    const moved = { ...user, email: newEmail };
    expect(await verifyEmailWithLink(await mailedLink(moved), anonymous)).toEqual({ ok: true, email: newEmail });
    await changeEmail(user.id, uniqueEmail("again"), ctx);
    expect(await findEnabledAccount(user.id)).toMatchObject({ emailVerified: false });
  });

  it("a password reset with a mailed recovery link proves the address too", async () => {
    const user = await makeUser();
    const { delivery } = await requestPasswordRecovery(user.email, anonymous);
    await delivery;
    const token = /\/sign-in\/reset\?token=([\w-]+)/.exec(decodedMail(smtp.mails.at(-1)!))![1]!;
    expect(await resetPasswordWithLink(token, "a brand new passphrase", anonymous)).toMatchObject({ ok: true });
    const at = await emailVerifiedAt(user.id);
    expect(at).toBeInstanceOf(Date);
    expect((await db().auditEvent.findFirstOrThrow({ where: { action: "password.recovery.complete", outcome: "success" } })).metadata).toMatchObject({ emailVerified: true });
    // A verification link still live then keeps the first time.
    await db().user.update({ where: { id: user.id }, data: { emailVerifiedAt: null } });
    const link = await mailedLink(user);
    await db().user.update({ where: { id: user.id }, data: { emailVerifiedAt: at } });
    expect(await verifyEmailWithLink(link, anonymous)).toMatchObject({ ok: true });
    expect(await emailVerifiedAt(user.id)).toEqual(at);
  });

  it("at once: two sends leave one working link; a confirmation racing an address change neither fails nor verifies the new address", async () => {
    const user = await makeUser();
    const own = userContext(user, client());
    await Promise.all([sendEmailVerification(user.id, own), sendEmailVerification(user.id, own), sendEmailVerification(user.id, own)]);
    expect(await db().emailVerificationToken.count({ where: { userId: user.id } })).toBe(1);

    for (let i = 0; i < 5; i++) {
      const racer = await makeUser();
      const token = await mailedLink(racer);
      // Both complete (they used to deadlock: the link's row, then the account's, against the other order).
      await Promise.all([verifyEmailWithLink(token, anonymous), changeEmail(racer.id, uniqueEmail("racing"), ctx)]);
      // Either the old address was confirmed and then changed (unverified again), or the link was dropped first.
      expect(await findEnabledAccount(racer.id)).toMatchObject({ emailVerified: false });
    }
  });

  it("refuses confirmations past a number of tries from one network, recording the first refusal only", async () => {
    const flood = { ...anonymous, client: client("203.0.113.77") };
    for (let i = 0; i < 30; i++) expect(await verifyEmailWithLink(`made-up-${i}`, flood)).toEqual({ ok: false, reason: "invalid_link" });
    expect(await verifyEmailWithLink("made-up-31", flood)).toEqual({ ok: false, reason: "too_many" });
    expect(await verifyEmailWithLink("made-up-32", flood)).toEqual({ ok: false, reason: "too_many" });
    expect(await db().auditEvent.count({ where: { action: "email.verification.complete", outcome: "blocked" } })).toBe(1);
  });

  it("sends a handful of links an hour, and says so when mail is not set up", async () => {
    const user = await makeUser();
    const own = userContext(user, client());
    for (let i = 0; i < 5; i++) expect(await sendEmailVerification(user.id, own)).toMatchObject({ ok: true });
    expect(await sendEmailVerification(user.id, own)).toEqual({ ok: false, reason: "too_many" });

    const other = await makeUser();
    delete process.env.GATEHOUSE_SMTP_URL;
    try {
      expect(await sendEmailVerification(other.id, userContext(other, client()))).toEqual({ ok: false, reason: "no_mail" });
    } finally {
      process.env.GATEHOUSE_SMTP_URL = smtp.url;
    }
    expect(await db().emailVerificationToken.count({ where: { userId: other.id } })).toBe(0);
  });
});
