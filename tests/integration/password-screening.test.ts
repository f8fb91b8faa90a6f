import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { screenNewPassword, PasswordRefusedError } from "@/lib/auth/password-screening";
import { changePassword, completeRequiredPasswordChange, createUser, setTemporaryPassword } from "@/lib/auth/users";
import { issueSetupToken, isSetupTokenUsable, redeemSetupToken } from "@/lib/auth/first-admin";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { resetDatabase } from "../support/db";
import { TEST_PASSWORD, client, ctx, makeUser, uniqueEmail } from "../support/factories";

// New passwords are screened (NIST SP 800-63B): guessable ones, including the account's own email
// or name, are refused with zxcvbn's reason, and with a Pwned Passwords service configured, a
// breached one is refused too; the service only ever sees five hex digits of the SHA-1.

const BREACHED = "a perfectly ordinary passphrase";
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex").toUpperCase();

// A Pwned Passwords range API of our own (the real one is on the internet, which CI does not reach):
// the same answer format, with padding lines (count 0) as Add-Padding asks for.
let pwned: Server;
let pwnedUrl: string;
let pwnedStatus = 200;
let pwnedOversized = false;
const pwnedRequests: { url: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  pwned = createServer((request, response) => {
    pwnedRequests.push({ url: request.url ?? "", headers: request.headers });
    const prefix = /^\/range\/([0-9A-F]{5})$/.exec(request.url ?? "")?.[1];
    if (pwnedStatus !== 200 || !prefix) return void response.writeHead(pwnedStatus === 200 ? 404 : pwnedStatus).end();
    // An answer far larger than any range (a misconfigured URL, a hostile server), sent in chunks.
    if (pwnedOversized) return void response.writeHead(200).end(`${sha1(BREACHED).slice(5)}:42\r\n`.repeat(20_000));
    const lines = [`${"0".repeat(35)}:0`, `${"F".repeat(35)}:0`];
    if (sha1(BREACHED).startsWith(prefix)) lines.splice(1, 0, `${sha1(BREACHED).slice(5)}:42`);
    response.writeHead(200, { "content-type": "text/plain" }).end(lines.join("\r\n"));
  });
  await new Promise<void>((resolve) => pwned.listen(0, "127.0.0.1", resolve));
  pwnedUrl = `http://127.0.0.1:${(pwned.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => pwned.close(() => resolve())));
beforeEach(async () => {
  pwnedStatus = 200;
  pwnedOversized = false;
  pwnedRequests.length = 0;
  await resetDatabase();
});
afterEach(() => {
  delete process.env.GATEHOUSE_PWNED_PASSWORDS_URL;
});

async function sessionOf(email: string): Promise<string> {
  const result = await signInWithPassword({ email, password: TEST_PASSWORD }, client(), null);
  if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
  return result.sessionId;
}

const owner = { email: "maria.gonzalez@example.test", name: "Maria Gonzalez" };

describe("how guessable a new password is", () => {
  it("refuses common passwords, keyboard rows and the owner's own email or name, saying why", async () => {
    for (const password of ["password1234", "qwertyuiop12", "Summer2024!!", "maria.gonzalez", "MariaGonzalez!"]) {
      const screening = await screenNewPassword(password, owner);
      expect(screening, password).toMatchObject({ ok: false, reason: "guessable" });
      if (!screening.ok) expect(screening.message).toMatch(/^This password is too easy to guess\. .+/);
    }
  });

  it("accepts a passphrase and a random password", async () => {
    expect(await screenNewPassword(TEST_PASSWORD, owner)).toEqual({ ok: true });
    expect(await screenNewPassword("vT7#qL2!xR9@mK", owner)).toEqual({ ok: true });
  });

  it("judges a long password by its first 40 characters (zxcvbn's time grows steeply with length)", async () => {
    const strong = "vT7#qL2!xR9@mK4$wZ8^nB3&pJ6*hD1(sF5)gY0_";
    expect(strong).toHaveLength(40);
    // What follows the 40th character is not looked at: neither a weak tail nor a strong one.
    expect(await screenNewPassword(strong + "1".repeat(88), owner)).toEqual({ ok: true });
    expect(await screenNewPassword("1".repeat(40) + strong.repeat(2), owner)).toMatchObject({ ok: false, reason: "guessable" });
  });
});

describe("breached passwords (GATEHOUSE_PWNED_PASSWORDS_URL)", () => {
  it("refuses a password in the breach corpus; the service sees five hex digits of its SHA-1 and pads its answer", async () => {
    process.env.GATEHOUSE_PWNED_PASSWORDS_URL = pwnedUrl;
    expect(await screenNewPassword(BREACHED, owner)).toEqual({ ok: false, reason: "breached", message: expect.stringContaining("appeared in a data breach") });
    expect(await screenNewPassword(TEST_PASSWORD, owner)).toEqual({ ok: true });
    expect(pwnedRequests.map((r) => r.url)).toEqual([`/range/${sha1(BREACHED).slice(0, 5)}`, `/range/${sha1(TEST_PASSWORD).slice(0, 5)}`]);
    expect(pwnedRequests[0]!.headers["add-padding"]).toBe("true");
  });

  it("is not asked about a password already refused as guessable, and is not asked at all when unset", async () => {
    process.env.GATEHOUSE_PWNED_PASSWORDS_URL = pwnedUrl;
    await screenNewPassword("password1234", owner);
    delete process.env.GATEHOUSE_PWNED_PASSWORDS_URL;
    expect(await screenNewPassword(BREACHED, owner)).toEqual({ ok: true });
    expect(pwnedRequests).toEqual([]);
  });

  it("accepts the password when the service fails (fail open), so nobody is kept on a compromised one", async () => {
    process.env.GATEHOUSE_PWNED_PASSWORDS_URL = pwnedUrl;
    pwnedStatus = 503;
    expect(await screenNewPassword(BREACHED, owner)).toEqual({ ok: true });
    process.env.GATEHOUSE_PWNED_PASSWORDS_URL = "http://127.0.0.1:9/";
    expect(await screenNewPassword(BREACHED, owner)).toEqual({ ok: true });
    // An answer over 256 KiB is not read to its end, nor believed.
    process.env.GATEHOUSE_PWNED_PASSWORDS_URL = pwnedUrl;
    pwnedStatus = 200;
    pwnedOversized = true;
    expect(await screenNewPassword(BREACHED, owner)).toEqual({ ok: true });
  });
});

describe("every way a password is set is screened", () => {
  it("account creation: nothing is created, and the refusal is audited with its reason", async () => {
    const email = uniqueEmail();
    await expect(createUser({ email, name: "New Person", password: "password1234", roles: ["user"] }, ctx, null)).rejects.toBeInstanceOf(PasswordRefusedError);
    expect(await db().user.count({ where: { email } })).toBe(0);
    const refused = await db().auditEvent.findFirstOrThrow({ where: { action: "user.create", outcome: "failure" }, orderBy: { seq: "desc" } });
    expect(refused.metadata).toEqual({ email, reason: "guessable" });
    const [leaked] = await db().$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM audit_events e WHERE row_to_json(e)::text LIKE '%password1234%'`;
    expect(leaked!.n).toBe(BigInt(0));
  });

  it("a password change: refused with the reason, audited, the old password still signs in", async () => {
    const user = await makeUser();
    const me = { id: user.id, email: user.email, name: user.name, sessionId: await sessionOf(user.email) };
    process.env.GATEHOUSE_PWNED_PASSWORDS_URL = pwnedUrl;
    expect(await changePassword(me, TEST_PASSWORD, BREACHED, ctx)).toEqual({ ok: false, reason: "unacceptable_password", message: expect.stringContaining("data breach") });
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toMatchObject({ ok: true });
    const refused = await db().auditEvent.findFirstOrThrow({ where: { action: "password.change", outcome: "failure", resourceId: user.id } });
    expect(refused.metadata).toEqual({ reason: "breached" });
    const [leaked] = await db().$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM audit_events e WHERE row_to_json(e)::text LIKE ${`%${BREACHED}%`}`;
    expect(leaked!.n).toBe(BigInt(0));
  });

  it("a password change with the wrong current password is refused for that, before any screening", async () => {
    const user = await makeUser();
    const sessionId = await sessionOf(user.email);
    process.env.GATEHOUSE_PWNED_PASSWORDS_URL = pwnedUrl;
    expect(await changePassword({ id: user.id, email: user.email, sessionId }, "not my password", BREACHED, ctx)).toEqual({ ok: false, reason: "wrong_password" });
    expect(pwnedRequests).toEqual([]);
  });

  it("a required change at sign-in (after an admin's temporary password): refused, audited, the sign-in still waits for a new password", async () => {
    const user = await makeUser();
    await setTemporaryPassword(user.id, TEST_PASSWORD, ctx);
    const sessionId = await sessionOf(user.email);
    expect(await completeRequiredPasswordChange(user.id, sessionId, "qwertyuiop12", ctx)).toEqual({ ok: false, reason: "unacceptable_password", message: expect.stringContaining("too easy to guess") });
    expect((await db().session.findUniqueOrThrow({ where: { id: sessionId } })).stage).toBe("password_change_required");
    expect(await db().auditEvent.findFirst({ where: { action: "password.reset_completed", outcome: "failure", resourceId: user.id } })).toMatchObject({ metadata: { reason: "guessable" } });
    expect(await completeRequiredPasswordChange(user.id, sessionId, "a much better passphrase", ctx)).toMatchObject({ ok: true });
  });

  it("an admin's temporary password: refused and audited, the user's own password still signs in", async () => {
    const user = await makeUser();
    await expect(setTemporaryPassword(user.id, "password1234", ctx)).rejects.toBeInstanceOf(PasswordRefusedError);
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).toMatchObject({ ok: true });
    expect(await db().auditEvent.findFirst({ where: { action: "password.temporary_set", resourceId: user.id } })).toMatchObject({ outcome: "failure", metadata: { email: user.email, reason: "guessable" } });
  });

  it("the first admin's, by setup link: the link stays usable for a better one", async () => {
    const token = await issueSetupToken();
    const admin = { email: "first.admin@example.test", name: "First Admin" };
    expect(await redeemSetupToken(token, { ...admin, password: "first.admin2026" }, ctx)).toEqual({ ok: false, reason: "unacceptable_password", message: expect.stringContaining("too easy to guess") });
    expect(await isSetupTokenUsable(token)).toBe(true);
    expect(await redeemSetupToken(token, { ...admin, password: TEST_PASSWORD }, ctx)).toMatchObject({ ok: true });
  });
});
