import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { emailVerifiedAt, sendEmailVerification, verifyEmailWithLink } from "@/lib/auth/email-verification";
import { changeEmail, resetUserMfa, setDisabled, setRoles, setTemporaryPassword } from "@/lib/auth/users";
import { userContext } from "@/lib/audit/context";
import { resetDatabase } from "../support/db";
import { client, makeUser, uniqueEmail } from "../support/factories";
import { enrollTotp } from "../support/mfa";
import { decodedMail } from "../support/smtp";
import { mailSinkForFile } from "../support/mail-sink";

// One connection, as on the embedded database (the quick start): work done inside a transaction
// holds the only connection, so anything read or written outside that transaction meanwhile would
// wait for the connection until the transaction timed out, and the change would fail.
process.env.DATABASE_POOL_MAX = "1";

beforeEach(resetDatabase);

const smtp = mailSinkForFile();

describe("a user on one database connection", () => {
  it("asks for an email confirmation link and confirms the address with it", { timeout: 60_000 }, async () => {
    const user = await makeUser();
    const sent = await sendEmailVerification(user.id, userContext(user, client()));
    expect(sent).toMatchObject({ ok: true, email: user.email });
    if (!sent.ok) return;
    await sent.delivery;
    const token = /\/verify-email\?token=([\w-]+)/.exec(decodedMail(smtp.mails.at(-1)!))?.[1];
    expect(await verifyEmailWithLink(token!, { actor: { type: "user", id: null, label: null }, client: client() })).toEqual({ ok: true, email: user.email });
    expect(await emailVerifiedAt(user.id)).toBeInstanceOf(Date);
  });
});

describe("a help desk on one database connection", () => {
  it("sets a temporary password, resets MFA, changes the email, gives a role it holds and disables an account", { timeout: 60_000 }, async () => {
    const helpdesk = await makeUser({ roles: ["analyst"] });
    const target = await makeUser();
    await enrollTotp(target);
    const asHelpdesk = userContext(helpdesk, null);

    await setTemporaryPassword(target.id, "a temporary password the help desk chose", asHelpdesk, helpdesk);
    await resetUserMfa(target.id, "says they lost their phone", asHelpdesk, helpdesk);
    const email = uniqueEmail("moved");
    await changeEmail(target.id, email, asHelpdesk, helpdesk);
    expect((await signInWithPassword({ email, password: "a temporary password the help desk chose" }, client(), null)).ok).toBe(true);
    await setRoles(target.id, ["user", "analyst"], asHelpdesk, helpdesk);
    await setDisabled(target.id, true, asHelpdesk, helpdesk);

    expect(await db().user.findUniqueOrThrow({ where: { id: target.id }, select: { email: true, roles: true, disabledAt: true } })).toMatchObject({ email, roles: ["user", "analyst"], disabledAt: expect.any(Date) });
    expect(await db().totpFactor.count({ where: { userId: target.id } })).toBe(0);
  });
});
