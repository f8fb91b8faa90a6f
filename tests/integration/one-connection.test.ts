import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { changeEmail, resetUserMfa, setDisabled, setRoles, setTemporaryPassword } from "@/lib/auth/users";
import { userContext } from "@/lib/audit/context";
import { resetDatabase } from "../support/db";
import { client, makeUser, uniqueEmail } from "../support/factories";
import { enrollTotp } from "../support/mfa";

// One connection, as on the embedded database (the quick start): a help desk's change re-judges
// the account under the admin access lock, inside the transaction that holds the only connection,
// so anything it read outside that transaction would wait for the connection until it timed out.
process.env.DATABASE_POOL_MAX = "1";

beforeEach(resetDatabase);

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
