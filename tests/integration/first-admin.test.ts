import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { ensureFirstAdminPath, isSetupTokenUsable, issueSetupToken, redeemSetupToken } from "@/lib/auth/first-admin";
import { resetDatabase } from "../support/db";
import { ctx, makeUser } from "../support/factories";

beforeEach(resetDatabase);

const admin = { email: "first@example.test", name: "First", password: "a long enough passphrase" };

describe("first admin", () => {
  it("is created from the environment when no admin exists", async () => {
    expect(await ensureFirstAdminPath({ email: "Env@Example.test", password: "environment passphrase" })).toBeNull();
    const user = await db().user.findUnique({ where: { email: "env@example.test" } });
    expect(user?.roles).toEqual(["user", "admin"]);
  });

  it("refuses a weak password from the environment, naming the variable", async () => {
    await expect(ensureFirstAdminPath({ email: "env@example.test", password: "short" })).rejects.toThrow(/^GATEHOUSE_ADMIN_EMAIL \/ GATEHOUSE_ADMIN_PASSWORD refused: password: Use at least 12 characters/);
    await expect(ensureFirstAdminPath({ email: "env@example.test", password: "password1234" })).rejects.toThrow(/^GATEHOUSE_ADMIN_PASSWORD refused: .*Password rules/);
    expect(await db().user.count()).toBe(0);
  });

  it("otherwise gets a one-time setup link that works once and stores only a hash", async () => {
    const token = await ensureFirstAdminPath({});
    expect(token).toMatch(/^[\w-]{40,}$/);
    const stored = await db().setupToken.findMany();
    expect(stored.map((s) => s.tokenHash)).not.toContain(token);
    expect(await isSetupTokenUsable(token!)).toBe(true);
    expect(await redeemSetupToken(token!, admin, ctx)).toMatchObject({ ok: true });
    expect(await redeemSetupToken(token!, { ...admin, email: "second@example.test" }, ctx)).toEqual({ ok: false, reason: "admin_exists" });
    expect(await isSetupTokenUsable(token!)).toBe(false);
    expect(await ensureFirstAdminPath({})).toBeNull();
  });

  it("keeps the link usable when the address is already taken by a (non-admin) account", async () => {
    await makeUser({ email: admin.email });
    const token = await issueSetupToken();
    expect(await redeemSetupToken(token, admin, ctx)).toEqual({ ok: false, reason: "email_taken" });
    expect(await isSetupTokenUsable(token)).toBe(true);
    expect(await redeemSetupToken(token, { ...admin, email: "other-admin@example.test" }, ctx)).toMatchObject({ ok: true });
  });

  it("two links redeemed at once make one admin", async () => {
    const [first, second] = [await issueSetupToken(), await issueSetupToken()];
    const results = await Promise.all([redeemSetupToken(first, admin, ctx), redeemSetupToken(second, { ...admin, email: "rival@example.test" }, ctx)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await db().user.count({ where: { roles: { has: "admin" } } })).toBe(1);
  });

  it("a link redeemed while another instance starts with an admin in its environment: one admin, and the other is told", async () => {
    const token = await issueSetupToken();
    const [redeemed, started] = await Promise.all([
      redeemSetupToken(token, admin, ctx),
      ensureFirstAdminPath({ email: "from-env@example.test", password: "another long passphrase" }),
    ]);
    expect(started).toBeNull();
    expect(await db().user.count({ where: { roles: { has: "admin" } } })).toBe(1);
    const made = await db().user.findFirstOrThrow({ where: { roles: { has: "admin" } } });
    if (made.email === admin.email) expect(redeemed).toMatchObject({ ok: true });
    else expect(redeemed).toEqual({ ok: false, reason: "admin_exists" });
  });

  it("refuses a wrong or expired token", async () => {
    const token = await issueSetupToken(new Date(Date.now() - 2 * 3_600_000));
    expect(await redeemSetupToken(token, admin, ctx)).toEqual({ ok: false, reason: "invalid_token" });
    expect(await redeemSetupToken("forged-token", admin, ctx)).toEqual({ ok: false, reason: "invalid_token" });
    expect(await db().user.count()).toBe(0);
    // Each refusal is in the audit trail, without the token.
    const refusals = await db().auditEvent.findMany({ where: { action: "setup.redeem" } });
    expect(refusals.map((e) => [e.outcome, e.actorLabel, (e.metadata as { reason: string }).reason])).toEqual([["blocked", "setup-link", "invalid_token"], ["blocked", "setup-link", "invalid_token"]]);
    expect(JSON.stringify(refusals.map((e) => e.metadata))).not.toContain(token);
  });

  it("two instances starting at once with the admin in the environment: one creates it, neither fails", async () => {
    const env = { email: "env@example.test", password: "environment passphrase" };
    expect(await Promise.all([ensureFirstAdminPath(env), ensureFirstAdminPath(env)])).toEqual([null, null]);
    expect(await db().user.count({ where: { roles: { has: "admin" } } })).toBe(1);
  });
});
