import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { userContext } from "@/lib/audit/context";
import { listActiveAdmins } from "@/lib/auth/users";
import { CONSOLE_SECTIONS, consoleAllows, DEFAULT_POLICIES, policySetInForce, publishPolicies, resetPolicies, type ConsoleSubject } from "@/lib/policy";
import { enforceVersion } from "@/lib/policy/pdp";
import { resetDatabase } from "../support/db";
import { makeUser } from "../support/factories";

beforeEach(async () => {
  await resetDatabase();
  // This process re-reads a version only when its number changes: the fresh database's version 1 is not the last test's.
  enforceVersion(0, DEFAULT_POLICIES);
});

const run = promisify(execFile);
const OFFICE = "198.51.100.1";

/** An admin as the console sees one: signed in with an authenticator app, MFA no longer fresh. */
async function signedInAdmin(ip: string | null = OFFICE) {
  const admin = await makeUser({ roles: ["admin"] });
  const subject: ConsoleSubject = { userId: admin.id, email: admin.email, roles: admin.roles, groups: [], ip, risk: 0, authStrength: "mfa", mfaFresh: false, deviceTrusted: false };
  return { admin, subject, ctx: userContext(admin, null) };
}

const withPolicy = (id: string, policy: string) => `${DEFAULT_POLICIES}\n@id("${id}")\n${policy}\n`;
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
const HOUR_MS = 3_600_000;
const inYears = (years: number) => {
  const date = new Date();
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date.toISOString().slice(0, 10);
};

// The two texts that got past the old guard (it asked only for manage, and only at each hour of today).
const NO_VIEWS = withPolicy("nobody-views", `forbid (principal, action == Gatehouse::Action::"view", resource);`);
const everythingEndsAt = (at: Date) => withPolicy("everything-ends", `forbid (principal, action, resource) when { context.now > ${seconds(at)} };`);

/** Sections the console's layout would list for this subject: none means requireConsole answers 403. */
async function viewableSections(subject: ConsoleSubject) {
  const allowed = await Promise.all(CONSOLE_SECTIONS.map((section) => consoleAllows(subject, section, "view")));
  return CONSOLE_SECTIONS.filter((_, i) => allowed[i]);
}

describe("the lockout guard", () => {
  it("refuses a forbid on view: admins would keep manage but lose the console and the policies page", async () => {
    const { subject, ctx } = await signedInAdmin();
    const result = await publishPolicies(NO_VIEWS, "read-only week", subject, listActiveAdmins, ctx);
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/^Refused: with these policies no admin could open the policies page in the coming week, so nobody could undo it\./) });
    expect((await policySetInForce()).version).toBe(0);
    const blocked = await db().auditEvent.findFirstOrThrow({ where: { action: "policy.publish", outcome: "blocked" } });
    expect(blocked.metadata).toMatchObject({ reason: "lockout_guard", nobodyCould: "open the policies page" });
  });

  it.each([
    ["in an hour", new Date(Date.now() + HOUR_MS), inYears(1)],
    ["in three days", new Date(Date.now() + 72 * HOUR_MS), inYears(1)],
    ["in two years", new Date(Date.now() + 2 * 365 * 24 * HOUR_MS), inYears(10)],
  ])("refuses a forbid on everything that starts %s, though it lets everyone in today", async (_, at, lockedWeek) => {
    const { subject, ctx } = await signedInAdmin();
    const result = await publishPolicies(everythingEndsAt(at), "fine today", subject, listActiveAdmins, ctx);
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining(`no admin could manage the policies (publish or roll back) in the week from ${lockedWeek}`) });
    expect((await policySetInForce()).version).toBe(0);
  });

  it("refuses a window that shuts everyone out between two dates, wherever it falls between the weeks tried", async () => {
    const { subject, ctx } = await signedInAdmin();
    // A change freeze with a wrong end: from in two weeks until in 300 days (before: every week tried was outside it).
    const [opens, closes] = [new Date(Date.now() + 14 * 24 * HOUR_MS), new Date(Date.now() + 300 * 24 * HOUR_MS)];
    const text = withPolicy("change-freeze", `forbid (principal, action, resource is Gatehouse::Console) when { context.now >= ${seconds(opens)} && context.now < ${seconds(closes)} };`);
    const result = await publishPolicies(text, "change freeze", subject, listActiveAdmins, ctx);
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining(`in the week from ${opens.toISOString().slice(0, 10)}`) });
    expect((await policySetInForce()).version).toBe(0);
    // A freeze of the policies alone, with the rest of the console open, is an ordinary restriction.
    const freezeOnPolicies = withPolicy("change-freeze", `forbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies") when { context.now >= ${seconds(opens)} && context.now < ${seconds(new Date(opens.getTime() + 3 * 24 * HOUR_MS))} };`);
    expect(await publishPolicies(freezeOnPolicies, "three-day freeze", subject, listActiveAdmins, ctx)).toMatchObject({ ok: true });
  });

  it("refuses a forbid that only a server clock set back would meet", async () => {
    const { subject, ctx } = await signedInAdmin();
    const text = withPolicy("nothing-before-last-week", `forbid (principal, action, resource) when { context.now < ${seconds(new Date(Date.now() - 7 * 24 * HOUR_MS))} };`);
    const result = await publishPolicies(text, "nothing before last week", subject, listActiveAdmins, ctx);
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining(`in the week from ${inYears(-1)}`) });
  });

  it("refuses a console that needs a fresh second factor on every page: most page views come after the 5 minutes", async () => {
    const { subject, ctx } = await signedInAdmin();
    const text = withPolicy("views-need-fresh-mfa", `forbid (principal, action == Gatehouse::Action::"view", resource) unless { context.mfaFresh };`);
    expect(await publishPolicies(text, "step up for everything", subject, listActiveAdmins, ctx)).toMatchObject({ ok: false, message: expect.stringContaining("no admin could open the policies page") });
  });

  it("judges an address rule from the publisher's address", async () => {
    const { subject, ctx } = await signedInAdmin();
    const text = withPolicy("console-from-the-lan", `forbid (principal, action, resource is Gatehouse::Console) unless { context.ip.isInRange(ip("10.0.0.0/8")) };`);
    const fromOutside = await publishPolicies(text, "console from the LAN", subject, listActiveAdmins, ctx);
    expect(fromOutside).toMatchObject({ ok: false, message: expect.stringContaining(`from ${OFFICE}`) });
    expect(await publishPolicies(text, "console from the LAN", { ...subject, ip: "10.1.2.3" }, listActiveAdmins, ctx)).toEqual({ ok: true, version: 1 });
  });

  it("lets ordinary restrictions through: office hours on weekdays, a passkey to edit policies, no remembered devices, a risk ceiling", async () => {
    const { subject, ctx } = await signedInAdmin();
    const text = [
      DEFAULT_POLICIES,
      `@id("policy-edits-in-office-hours")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies") unless { context.hourUtc >= 8 && context.hourUtc < 20 };`,
      `@id("policy-edits-on-weekdays")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies") when { context.dayOfWeekUtc == 0 || context.dayOfWeekUtc == 6 };`,
      `@id("policy-edits-need-a-passkey")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies") unless { context.authStrength == "phishing_resistant" };`,
      `@id("console-not-on-remembered-devices")\nforbid (principal, action, resource is Gatehouse::Console) when { context.deviceTrusted };`,
      `@id("console-below-medium-risk")\nforbid (principal, action, resource is Gatehouse::Console) when { context.risk.greaterThanOrEqual(decimal("0.5")) };`,
      `@id("deny-documentation-network")\nforbid (principal, action, resource) when { context.ip.isInRange(ip("203.0.113.0/24")) };`,
      `@id("keys-frozen")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"keys");`,
    ].join("\n\n");
    expect(await publishPolicies(text, "tighten the console", subject, listActiveAdmins, ctx)).toEqual({ ok: true, version: 1 });
    const passkey = { ...subject, authStrength: "phishing_resistant" as const, mfaFresh: true };
    expect(await consoleAllows(passkey, "policies", "manage", new Date("2026-11-16T09:00:00Z"))).toBe(true); // a Monday
    expect(await consoleAllows(passkey, "policies", "manage", new Date("2026-11-14T09:00:00Z"))).toBe(false); // a Saturday
    expect(await consoleAllows({ ...passkey, authStrength: "mfa" }, "policies", "manage", new Date("2026-11-16T09:00:00Z"))).toBe(false);
  });

  it("keeps a forbid on one admin by name when another admin keeps the way back, and refuses it for the only one", async () => {
    const { admin, subject, ctx } = await signedInAdmin();
    const other = await makeUser({ roles: ["admin"] });
    // Each in turn: whichever admin the guard would try for both, one of these names it.
    for (const named of [admin, other]) {
      expect(await publishPolicies(withPolicy("not-this-admin", `forbid (principal == Gatehouse::User::"${named.id}", action, resource);`), "one admin out", subject, listActiveAdmins, ctx)).toMatchObject({ ok: true });
      expect(await publishPolicies(withPolicy("not-this-email", `forbid (principal is Gatehouse::User, action, resource) when { principal.email == "${named.email}" };`), "one admin out", subject, listActiveAdmins, ctx)).toMatchObject({ ok: true });
    }
    const onlyAdmin = (await listActiveAdmins()).filter((a) => a.userId === admin.id);
    const result = await publishPolicies(withPolicy("not-this-admin", `forbid (principal == Gatehouse::User::"${admin.id}", action, resource);`), "the only admin out", subject, async () => onlyAdmin, ctx);
    expect(result).toMatchObject({ ok: false });
  });
});

describe("the break-glass reset (npm run policies:reset)", () => {
  it("publishes the built-in roles again after a lockout, audited as the command line", async () => {
    const { subject } = await signedInAdmin();
    // A lockout that got in without the guard (an older version of it, or a hand-made row).
    await db().policyVersion.create({ data: { text: NO_VIEWS, comment: "locked out" } });
    expect(await viewableSections(subject)).toEqual([]);

    expect(await resetPolicies(0, listActiveAdmins)).toEqual({ ok: true, version: 2, replaced: 1 });
    expect(await viewableSections(subject)).toEqual([...CONSOLE_SECTIONS]);
    expect(await consoleAllows({ ...subject, mfaFresh: true }, "policies", "manage")).toBe(true);
    expect(await db().policyVersion.findUniqueOrThrow({ where: { version: 2 } })).toMatchObject({ text: DEFAULT_POLICIES, restoredFrom: 0, authorId: null });
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "policy.rollback" } });
    expect(event).toMatchObject({ outcome: "success", actorType: "system", actorId: null, actorLabel: "cli", resourceId: "2" });
    expect(event.metadata).toMatchObject({ version: 2, previousVersion: 1, restoredFrom: 0 });
  });

  it("rolls back to a named version, and refuses one that locks the admins out", async () => {
    const { subject, ctx } = await signedInAdmin();
    const keysFrozen = withPolicy("keys-frozen", `forbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"keys");`);
    expect(await publishPolicies(keysFrozen, "freeze keys", subject, listActiveAdmins, ctx)).toEqual({ ok: true, version: 1 });
    await db().policyVersion.create({ data: { text: everythingEndsAt(new Date(Date.now() + HOUR_MS)), comment: "locked out from tomorrow" } });

    expect(await resetPolicies(2, listActiveAdmins)).toMatchObject({ ok: false, message: expect.stringContaining("no admin could manage the policies") });
    expect(await resetPolicies(9, listActiveAdmins)).toEqual({ ok: false, message: "There is no version 9." });
    expect(await resetPolicies(1, listActiveAdmins)).toEqual({ ok: true, version: 3, replaced: 2 });
    expect(await db().policyVersion.findUniqueOrThrow({ where: { version: 3 } })).toMatchObject({ text: keysFrozen, restoredFrom: 1 });
    expect(await consoleAllows(subject, "keys", "manage")).toBe(false);
    expect(await consoleAllows(subject, "policies", "view", new Date(Date.now() + 48 * HOUR_MS))).toBe(true);
  });

  it("runs from npm and says what it did", { timeout: 120_000 }, async () => {
    await signedInAdmin();
    await db().policyVersion.create({ data: { text: NO_VIEWS, comment: "locked out" } });
    const { stdout } = await run("npm", ["run", "--silent", "policies:reset"], { env: process.env });
    expect(stdout).toContain("Published the built-in roles (version 0) again as version 2, replacing version 1");
    expect((await policySetInForce()).version).toBe(2);

    const misuse = run("npm", ["run", "--silent", "policies:reset", "--", "latest"], { env: process.env });
    await expect(misuse).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("Usage: npm run policies:reset") });
  });
});
