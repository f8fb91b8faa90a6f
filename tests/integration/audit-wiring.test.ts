import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { verifyChain } from "@/lib/audit";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { endAllSessions } from "@/lib/auth/sessions";
import { ACCOUNT_FAILURE_LIMIT } from "@/lib/auth/throttle";
import { setDisabled, setRoles } from "@/lib/auth/users";
import { resetDatabase } from "../support/db";
import { TEST_PASSWORD, client, ctx, makeUser } from "../support/factories";

beforeEach(resetDatabase);

const actions = async () => (await db().auditEvent.findMany({ orderBy: { seq: "asc" }, select: { action: true, outcome: true } })).map((e) => `${e.action}:${e.outcome}`);

describe("what lib/auth audits", () => {
  it("sign-in success, failure, throttling and lockout", async () => {
    const user = await makeUser();
    await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT + 1; i++) await signInWithPassword({ email: user.email, password: "wrong-pass" }, client(), null);
    expect(await actions()).toEqual([
      "user.create:success",
      "auth.sign_in:success",
      ...Array.from({ length: ACCOUNT_FAILURE_LIMIT }, () => "auth.sign_in:failure"),
      "account.lockout:blocked",
      "auth.sign_in:blocked",
    ]);
    const failure = await db().auditEvent.findFirst({ where: { outcome: "failure" } });
    expect(failure).toMatchObject({ type: "authentication", actorId: user.id, actorLabel: user.email });
    expect((await verifyChain()).ok).toBe(true);
  });

  it("role changes record what was granted and revoked; disabling records the sessions it ended", async () => {
    await makeUser({ roles: ["admin"] });
    const user = await makeUser();
    await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    await setRoles(user.id, ["user", "auditor"], ctx, null);
    await setDisabled(user.id, true, ctx);
    await endAllSessions(user.id, "revoked_by_admin", ctx); // nothing left to end: not audited
    const roles = await db().auditEvent.findFirst({ where: { action: "user.roles.update" } });
    expect(roles?.metadata).toMatchObject({ granted: ["auditor"], revoked: [] });
    expect((await actions()).slice(-4)).toEqual(["user.roles.update:success", "user.disable:success", "session.revoke_all:success", "oauth.user_grants.revoke:success"]);
  });
});
