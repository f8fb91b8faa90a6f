import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { db, pgPool } from "@/lib/db/client";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { changePassword } from "@/lib/auth/users";
import { runDetection, startIncidentEngine, stopIncidentEngine } from "@/lib/incidents";
import { deliverUserNotice, queueUserNotice } from "@/lib/notices";
import { auditEventsAfter } from "@/lib/audit/search";
import { userContext } from "@/lib/audit/context";
import { passkeyRegistrationOptions, registerPasskey } from "@/lib/mfa";
import { resetDatabase } from "../support/db";
import { SoftAuthenticator } from "../support/soft-authenticator";
import { decodedMail, startSmtpSink } from "../support/smtp";
import { TEST_PASSWORD, client, makeUser } from "../support/factories";

// Security notices by mail, end to end on a real PostgreSQL and a real SMTP server: the detection
// pass queues them from the audit trail, the incident worker delivers them.

process.env.GATEHOUSE_DETECTION_INTERVAL_MS = "600000"; // detection runs when the test says
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;

beforeAll(async () => {
  smtp = await startSmtpSink();
  process.env.GATEHOUSE_SMTP_URL = smtp.url;
  await resetDatabase();
  await startIncidentEngine();
});
afterAll(async () => {
  await stopIncidentEngine();
  delete process.env.GATEHOUSE_SMTP_URL;
  await smtp.close();
});
beforeEach(async () => {
  smtp.mails.length = 0;
  await resetDatabase();
  await pgPool().query("DELETE FROM pgboss.job WHERE name = 'user-notice'");
});

const mailsTo = (email: string) => smtp.mails.filter((m) => m.includes(`To: ${email}`)).map(decodedMail);
const queuedNotices = async () => (await pgPool().query<{ data: { kind: string; userId: string } }>("SELECT data FROM pgboss.job WHERE name = 'user-notice'")).rows.map((r) => r.data);

describe("security notices", () => {
  it("a sign-in from a new browser is mailed to the account's owner, once, with where it came from; a known browser is not", async () => {
    const user = await makeUser();
    const first = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client("203.0.113.5"), null);
    if (!first.ok) throw new Error("sign-in failed");
    await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client("203.0.113.5"), first.newDeviceToken);
    // Another new browser within the quarter hour: one mail of a kind is enough (no mail bombing).
    await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client("198.51.100.7"), null);
    await runDetection();

    await expect.poll(() => mailsTo(user.email).length, { timeout: 15_000 }).toBe(1);
    const mail = mailsTo(user.email)[0]!;
    expect(mail).toContain("Subject: New sign-in to your Gatehouse account");
    expect(mail).toContain("IP address 203.0.113.5");
    expect(mail).toContain("/account/security");
    await expect.poll(() => db().auditEvent.count({ where: { action: "user.notice.mail", outcome: "success", resourceId: user.id } })).toBe(1);
    // The one held back is not lost without a trace: the trail says it was throttled.
    const held = await db().auditEvent.findFirstOrThrow({ where: { action: "user.notice.mail", outcome: "blocked", resourceId: user.id } });
    expect(held.metadata).toMatchObject({ kind: "new_device_sign_in", reason: expect.stringMatching(/^throttled/) });

    // The trail read again (as after a crash) queues nothing twice.
    await db().detectionCursor.update({ where: { id: 1 }, data: { lastSeq: 0 } });
    await runDetection();
    expect(await queuedNotices()).toHaveLength(1);
  });

  it("every sign-in method added is mailed, even two in one quarter hour: the owner's own does not hide one added minutes later with a stolen session", async () => {
    const user = await makeUser();
    const addPasskey = async (ip: string) => {
      const { challengeId, options } = await passkeyRegistrationOptions(user);
      const added = await registerPasskey(user.id, { challengeId, response: new SoftAuthenticator().register(options), name: "Laptop" }, userContext(user, client(ip)));
      if (!added.ok) throw new Error(added.message);
    };
    await addPasskey("203.0.113.5"); // the owner
    await addPasskey("198.51.100.7"); // someone with the owner's session, minutes later
    await runDetection();

    const added = () => mailsTo(user.email).filter((m) => m.includes("Subject: A sign-in method was added to your Gatehouse account"));
    await expect.poll(() => added().length, { timeout: 15_000 }).toBe(2);
    expect(added().some((m) => m.includes("IP address 198.51.100.7"))).toBe(true);
    expect(added()[0]).not.toContain("at most one of a kind");
    await expect.poll(() => db().auditEvent.count({ where: { action: "user.notice.mail", outcome: "success", resourceId: user.id } })).toBe(2);
    expect(await db().auditEvent.count({ where: { action: "user.notice.mail", outcome: { not: "success" } } })).toBe(0);
  });

  it("news older than a day is not sent", async () => {
    const user = await makeUser();
    const signedIn = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    if (!signedIn.ok) throw new Error("sign-in failed");
    const [event] = await auditEventsAfter(BigInt(0), 100).then((events) => events.filter((e) => e.action === "auth.sign_in"));
    expect(await queueUserNotice(event!, Date.now() + 25 * 3_600_000)).toBe(false);
    expect(await queueUserNotice(event!)).toBe(true);
  });

  it("a password change is mailed; the mail never carries the password", async () => {
    const user = await makeUser();
    const signedIn = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    if (!signedIn.ok) throw new Error("sign-in failed");
    expect(await changePassword({ id: user.id, email: user.email, sessionId: signedIn.sessionId }, TEST_PASSWORD, "an entirely new passphrase", { actor: { type: "user", id: user.id, label: user.email }, client: client() })).toMatchObject({ ok: true });
    await runDetection();
    await expect.poll(() => mailsTo(user.email).some((m) => m.includes("Subject: Your Gatehouse password was changed")), { timeout: 15_000 }).toBe(true);
    expect(smtp.mails.join("\n")).not.toContain("an entirely new passphrase");
  });

  it("a mail server that refuses: the delivery fails so the queue retries, and the last try is audited as a failure", async () => {
    const user = await makeUser();
    const notice = { auditSeq: "7", userId: user.id, kind: "password_changed", at: new Date().toISOString(), detail: null, device: null, place: null, ip: null };
    process.env.GATEHOUSE_SMTP_URL = "smtp://127.0.0.1:9";
    try {
      await expect(deliverUserNotice(notice)).rejects.toThrow();
      expect(await db().auditEvent.count({ where: { action: "user.notice.mail" } })).toBe(0);
      await expect(deliverUserNotice(notice, { lastTry: true })).rejects.toThrow();
      expect(await db().auditEvent.findFirstOrThrow({ where: { action: "user.notice.mail" } })).toMatchObject({ outcome: "failure", resourceId: user.id });
    } finally {
      process.env.GATEHOUSE_SMTP_URL = smtp.url;
    }
    // A job whose data was tampered with in the queue is refused and recorded, not mailed or retried.
    const before = smtp.mails.length;
    expect(await deliverUserNotice({ ...notice, kind: "anything" })).toBe("invalid");
    expect(smtp.mails.length).toBe(before);
    expect(await db().auditEvent.count({ where: { action: "user.notice.mail", outcome: "failure" } })).toBe(2);
  });
});
