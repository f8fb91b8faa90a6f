import { beforeEach, describe, expect, it, vi } from "vitest";
import { db } from "@/lib/db/client";
import { userContext } from "@/lib/audit/context";
import { findPrincipalByEmail, listActiveAdmins } from "@/lib/auth/users";
import {
  authorize, CEDAR_SCHEMA, consoleAllows, consoleRequest, DEFAULT_POLICIES, listPolicyVersions, policyEditorState, policySetInForce,
  publishPolicies, rebaseDraft, rollbackPolicies, saveDraft, simulate, simulationSchema, type ConsoleSubject,
} from "@/lib/policy";
import { decideForService, pdpBodySchema } from "@/lib/policy/service-api";
import { decide, formatPolicies, TOO_DEEP, validatePolicies } from "@/lib/policy/cedar";
import { resetDatabase } from "../support/db";
import { makeUser } from "../support/factories";

beforeEach(resetDatabase);

async function adminSubject(): Promise<{ subject: ConsoleSubject; ctx: ReturnType<typeof userContext> }> {
  const admin = await makeUser({ roles: ["admin"] });
  return {
    subject: { userId: admin.id, email: admin.email, roles: admin.roles, groups: [], ip: "198.51.100.1", risk: 0, authStrength: "mfa", mfaFresh: true, deviceTrusted: false },
    ctx: userContext(admin, null),
  };
}

const ANALYSTS_READ_AUDIT = `\n@id("analysts-read-audit")\npermit (principal in Gatehouse::Role::"analyst", action == Gatehouse::Action::"view", resource == Gatehouse::Console::"audit");\n`;

describe("policy store", () => {
  it("publishes a new version that takes effect at once, and rolls back", async () => {
    const { subject, ctx } = await adminSubject();
    const analyst = { ...subject, userId: "a1", email: "an@example.test", roles: ["analyst"] };
    expect(await consoleAllows(analyst, "audit", "view")).toBe(false);

    const published = await publishPolicies(DEFAULT_POLICIES + ANALYSTS_READ_AUDIT, "analysts read the audit trail", subject, listActiveAdmins, ctx);
    expect(published).toEqual({ ok: true, version: 1 });
    expect(await consoleAllows(analyst, "audit", "view")).toBe(true);
    expect((await authorize(consoleRequest(analyst, "audit", "view"))).policies).toEqual(["analysts-read-audit"]);

    expect(await rollbackPolicies(0, "undo", subject, listActiveAdmins, ctx)).toEqual({ ok: true, version: 2 });
    expect(await consoleAllows(analyst, "audit", "view")).toBe(false);
    const history = await listPolicyVersions();
    expect(history.map((v) => [v.version, v.restoredFrom])).toEqual([[2, 0], [1, null]]);
    expect(history[1]!.diff).toContain('+@id("analysts-read-audit")');
    const events = await db().auditEvent.findMany({ where: { type: "policy" }, orderBy: { seq: "asc" } });
    expect(events.map((e) => [e.action, e.outcome])).toEqual([["policy.publish", "success"], ["policy.rollback", "success"]]);
    expect(events[0]!.metadata).toMatchObject({ version: 1, comment: "analysts read the audit trail" });
  });

  it("two publishes at once each record what they replaced; a publish from an older version than the newest is refused", async () => {
    const { subject, ctx } = await adminSubject();
    const other = `${DEFAULT_POLICIES}\n@id("keys-frozen")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"keys");\n`;
    const results = await Promise.all([
      publishPolicies(DEFAULT_POLICIES + ANALYSTS_READ_AUDIT, "one", subject, listActiveAdmins, ctx),
      publishPolicies(other, "two", subject, listActiveAdmins, ctx),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    const events = await db().auditEvent.findMany({ where: { action: "policy.publish", outcome: "success" }, orderBy: { seq: "asc" } });
    expect(events.map((e) => (e.metadata as { previousVersion: number }).previousVersion)).toEqual([0, 1]);
    // The second one's diff shows what it took away from the first.
    expect((events[1]!.metadata as { diff: string }).diff).toMatch(/^-@id\("(analysts-read-audit|keys-frozen)"\)/m);

    // Written against version 1, while version 2 is the newest: refused, nothing published.
    expect(await publishPolicies(DEFAULT_POLICIES, "from an old page", subject, listActiveAdmins, ctx, { baseVersion: 1 })).toMatchObject({ ok: false, message: expect.stringContaining("Version 2 was published after you started from version 1") });
    expect((await listPolicyVersions())[0]!.version).toBe(2);
    expect(await db().auditEvent.count({ where: { action: "policy.publish", outcome: "failure", metadata: { path: ["reason"], equals: "stale" } } })).toBe(1);
    expect(await publishPolicies(DEFAULT_POLICIES, "from the current page", subject, listActiveAdmins, ctx, { baseVersion: 2 })).toEqual({ ok: true, version: 3 });
  });

  it("the break-glass reset works when the newest version no longer parses", async () => {
    await makeUser({ roles: ["admin"] });
    // Written into the database by hand, or by a Cedar that read it differently.
    await db().policyVersion.create({ data: { text: "permit (", comment: "broken" } });
    const { resetPolicies } = await import("@/lib/policy/store");
    expect(await resetPolicies(0, listActiveAdmins)).toMatchObject({ ok: true, replaced: 1, version: 2 });
    expect((await policySetInForce()).version).toBe(2);
  });

  it("a forbid overrides every permit", async () => {
    const { subject, ctx } = await adminSubject();
    const text = `${DEFAULT_POLICIES}\n@id("keys-frozen")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"keys");\n`;
    expect((await publishPolicies(text, "freeze key rotation", subject, listActiveAdmins, ctx)).ok).toBe(true);
    const decision = await authorize(consoleRequest(subject, "keys", "manage"));
    expect(decision).toMatchObject({ decision: "deny", policies: ["keys-frozen"] });
    expect(await consoleAllows(subject, "keys", "view")).toBe(true);
  });

  it("refuses to publish what does not validate, and keeps the version in force", async () => {
    const { subject, ctx } = await adminSubject();
    const result = await publishPolicies(`${DEFAULT_POLICIES}\n@id("typo")\npermit (principal, action, resource) when { context.riskk > 1 };`, "typo", subject, listActiveAdmins, ctx);
    expect(result).toMatchObject({ ok: false, errors: [expect.objectContaining({ policyId: "typo", help: "did you mean `risk`?" })] });
    expect((await policySetInForce()).version).toBe(0);
  });

  it("the lockout guard refuses a set that leaves no admin able to manage policies", async () => {
    const { subject, ctx } = await adminSubject();
    const lockout = `${DEFAULT_POLICIES}\n@id("nobody-edits")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies");\n`;
    const result = await publishPolicies(lockout, "oops", subject, listActiveAdmins, ctx);
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/no admin could manage the policies/) });
    expect((await policySetInForce()).version).toBe(0);
    expect(await db().auditEvent.count({ where: { action: "policy.publish", outcome: "blocked" } })).toBe(1);

    // A time window still leaves the admins a way back: it publishes.
    const officeHours = `${DEFAULT_POLICIES}\n@id("office-hours")\nforbid (principal, action == Gatehouse::Action::"manage", resource == Gatehouse::Console::"policies") unless { context.hourUtc >= 8 && context.hourUtc < 20 };\n`;
    expect((await publishPolicies(officeHours, "edits in office hours", subject, listActiveAdmins, ctx)).ok).toBe(true);
    expect(await consoleAllows(subject, "policies", "manage", new Date("2026-11-16T21:00:00Z"))).toBe(false);
    expect(await consoleAllows(subject, "policies", "manage", new Date("2026-11-16T09:00:00Z"))).toBe(true);
  });

  it("another instance's publish reaches this one", async () => {
    const { subject } = await adminSubject();
    expect(await consoleAllows(subject, "users", "view")).toBe(true);
    // Written straight to the table, as another instance would.
    await db().policyVersion.create({ data: { text: `${DEFAULT_POLICIES}\n@id("no-users-page")\nforbid (principal, action, resource == Gatehouse::Console::"users");`, comment: "elsewhere" } });
    expect(await consoleAllows(subject, "users", "view")).toBe(false);
  });

  it("keeps one shared draft until it is published, edited further or not; another admin's draft saved since stays", async () => {
    const { subject, ctx } = await adminSubject();
    await saveDraft(`${DEFAULT_POLICIES}// draft`, 0, ctx);
    const opened = (await policyEditorState()).draft!;
    expect(opened.text).toContain("// draft");
    await publishPolicies(`${DEFAULT_POLICIES}// draft, edited a little more`, "publish the draft", subject, listActiveAdmins, ctx, { baseVersion: opened.baseVersion, draftSavedAt: opened.updatedAt });
    expect((await policyEditorState()).draft).toBeNull();

    // A draft started before version 1 cannot be published over it, even saved again from an
    // editor opened on version 0, until an admin says it was checked against version 1.
    await db().policyDraft.create({ data: { id: 1, text: `${DEFAULT_POLICIES}// old draft`, baseVersion: 0 } });
    const stale = (await policyEditorState()).draft!;
    expect(await publishPolicies(stale.text, "old draft", subject, listActiveAdmins, ctx, { baseVersion: stale.baseVersion, draftSavedAt: stale.updatedAt })).toMatchObject({ ok: false });
    await saveDraft(stale.text, stale.baseVersion, ctx);
    const resaved = (await policyEditorState()).draft!;
    expect(resaved.baseVersion).toBe(0);
    expect(await rebaseDraft(stale.updatedAt, 1, ctx)).toMatchObject({ ok: false });
    // Checked against a version no longer the newest (a colleague published meanwhile): refused, nothing changed.
    expect(await rebaseDraft(resaved.updatedAt, 0, ctx)).toEqual({ ok: false, message: expect.stringContaining("Version 1 has been published since") });
    expect((await policyEditorState()).draft!.baseVersion).toBe(0);
    expect(await rebaseDraft(resaved.updatedAt, 1, ctx)).toEqual({ ok: true, baseVersion: 1 });
    const saved = (await policyEditorState()).draft!;
    expect(saved.baseVersion).toBe(1);
    expect(await db().auditEvent.count({ where: { action: "policy.draft.rebase" } })).toBe(1);
    // Published from the in-force text while someone else's draft was saved: that draft stays.
    expect(await publishPolicies(DEFAULT_POLICIES, "from the policies in force", subject, listActiveAdmins, ctx, { baseVersion: 1 })).toMatchObject({ ok: true, version: 2 });
    expect((await policyEditorState()).draft?.text).toContain("// old draft");
    // A rollback from a page that showed version 1 in force is refused too.
    expect(await rollbackPolicies(0, "undo", subject, listActiveAdmins, ctx, { baseVersion: 1 })).toMatchObject({ ok: false, message: expect.stringContaining("Version 2 was published") });
    expect(await db().auditEvent.findFirst({ where: { action: "policy.rollback", outcome: "failure" } })).toMatchObject({ metadata: { reason: "stale", restoredFrom: 0 } });
  });

  it("the simulator decides against unpublished text and names the deciding policy", async () => {
    const analyst = await makeUser({ roles: ["analyst"] });
    const form = { principalType: "user", principal: analyst.email, action: "view", resourceType: "console", resource: "audit", at: "2026-11-16T10:00", ip: "203.0.113.5", risk: "0.2", authStrength: "mfa" };
    const request = simulationSchema.parse(form);
    const principal = await findPrincipalByEmail(analyst.email.toUpperCase());
    expect(simulate(DEFAULT_POLICIES, CEDAR_SCHEMA, request, principal)).toMatchObject({ kind: "decision", decision: "deny", policies: [] });
    expect(simulate(DEFAULT_POLICIES + ANALYSTS_READ_AUDIT, CEDAR_SCHEMA, request, principal)).toMatchObject({ kind: "decision", decision: "allow", policies: ["analysts-read-audit"] });
    expect(simulate(DEFAULT_POLICIES, CEDAR_SCHEMA, { ...request, principal: "nobody@example.test" }, await findPrincipalByEmail("nobody@example.test"))).toMatchObject({ kind: "unknown_principal" });
    expect(simulate("permit (", CEDAR_SCHEMA, request, principal)).toMatchObject({ kind: "invalid" });
    // The country the decision saw: the address's (none for a documentation address), or the one typed.
    const notFromJapan = `${DEFAULT_POLICIES + ANALYSTS_READ_AUDIT}\n@id("not-from-jp") forbid (principal, action, resource) when { context.country == "JP" };`;
    expect(simulate(notFromJapan, CEDAR_SCHEMA, request, principal)).toMatchObject({ decision: "allow", country: "" });
    expect(simulate(notFromJapan, CEDAR_SCHEMA, simulationSchema.parse({ ...form, ip: "133.242.0.1" }), principal)).toMatchObject({ decision: "deny", country: "JP" });
    expect(simulate(notFromJapan, CEDAR_SCHEMA, simulationSchema.parse({ ...form, country: "jp" }), principal)).toMatchObject({ decision: "deny", country: "JP" });
    expect(simulationSchema.safeParse({ ...form, country: "Japan" }).success).toBe(false);
    // A time typed with its zone (…Z) is the same moment, and decides the same way.
    const zoned = simulationSchema.parse({ ...form, at: "2026-11-16T10:00:00Z" });
    expect(zoned.at).toEqual(request.at);
    expect(simulate(DEFAULT_POLICIES + ANALYSTS_READ_AUDIT, CEDAR_SCHEMA, zoned, principal)).toMatchObject({ kind: "decision", decision: "allow", errors: [] });
  });
  it("text nested too deeply for Cedar is refused with a clear error, and decisions on the policies in force go on", async () => {
    const { subject, ctx } = await adminSubject();
    await publishPolicies(DEFAULT_POLICIES + ANALYSTS_READ_AUDIT, "analysts read the audit trail", subject, listActiveAdmins, ctx);
    const analyst = { ...subject, userId: "a1", email: "an@example.test", roles: ["analyst"] };
    expect(await consoleAllows(analyst, "audit", "view")).toBe(true);
    // ~150 nested brackets overflow Cedar's WebAssembly stack, which used to break every later call.
    const deep = `${DEFAULT_POLICIES}\npermit (principal, action, resource) when { ${"[".repeat(150)}${"]".repeat(150)} == [] };`;
    expect(validatePolicies(deep, CEDAR_SCHEMA)).toMatchObject({ ok: false, errors: [{ message: expect.stringContaining(TOO_DEEP), line: expect.any(Number) }] });
    // The formatter has no limit of its own: Cedar overflows, and a fresh engine takes over.
    expect(formatPolicies(deep)).toMatchObject({ ok: false, errors: [{ message: TOO_DEEP }] });
    expect(await consoleAllows(analyst, "audit", "view")).toBe(true);
    const request = simulationSchema.parse({ principalType: "user", principal: "an@example.test", action: "view", resourceType: "console", resource: "audit", at: "2026-11-16T10:00", ip: "203.0.113.5", risk: "0.2", authStrength: "mfa" });
    expect(simulate(deep, CEDAR_SCHEMA, request, null)).toMatchObject({ kind: "invalid" });
    expect(await publishPolicies(deep, "deep", subject, listActiveAdmins, ctx)).toMatchObject({ ok: false });
    expect(await consoleAllows(analyst, "audit", "view")).toBe(true);
    expect((await policySetInForce()).version).toBe(1);

    // A long chain validates only while Cedar can also evaluate it: refused past ~45 terms, naming the policy.
    const chain = (terms: number) => `${DEFAULT_POLICIES}\n@id("office-ranges")\nforbid (principal, action, resource) unless { ${Array.from({ length: terms }, (_, i) => `context.ip.isInRange(ip("10.${i}.0.0/16"))`).join(" || ")} };`;
    expect(validatePolicies(chain(40), CEDAR_SCHEMA).ok).toBe(true);
    expect(validatePolicies(chain(60), CEDAR_SCHEMA)).toMatchObject({ ok: false, errors: [{ policyId: "office-ranges", message: expect.stringContaining("to be evaluated safely") }] });
    // Brackets in strings and comments are not nesting.
    expect(validatePolicies(`${DEFAULT_POLICIES}\n// ${"(".repeat(50)}\n@id("odd-name")\nforbid (principal == Gatehouse::User::"${"[".repeat(50)}", action, resource);`, CEDAR_SCHEMA).ok).toBe(true);
  });
});

describe("the decision point for other services", () => {
  const SERVICE_POLICIES = `${DEFAULT_POLICIES}
@id("reports-for-everyone")
permit (principal, action == Gatehouse::Action::"access", resource is Gatehouse::Resource);
@id("no-secrets")
forbid (principal, action == Gatehouse::Action::"access", resource is Gatehouse::Resource) when { resource.kind == "secret" };
@id("risk-ceiling")
forbid (principal, action == Gatehouse::Action::"access", resource is Gatehouse::Resource) when { context.risk.greaterThanOrEqual(decimal("0.7")) };
@id("not-from-the-test-net")
forbid (principal, action == Gatehouse::Action::"access", resource is Gatehouse::Resource) when { context.ip.isInRange(ip("203.0.113.0/24")) };
@id("not-from-japan")
forbid (principal, action == Gatehouse::Action::"access", resource is Gatehouse::Resource) when { context.country == "JP" };
`;
  const ask = async (request: Record<string, unknown>) => {
    const { ctx } = await adminSubject();
    const parsed = pdpBodySchema.safeParse({ principal: { type: "Gatehouse::User", id: "u-1" }, action: "access", resource: { type: "Gatehouse::Resource", id: "r-1" }, ...request });
    if (!parsed.success) return { refused: parsed.error.issues.map((i) => i.message) };
    return decideForService(parsed.data, ctx);
  };
  const report = (kind: string) => [{ uid: { type: "Gatehouse::Resource", id: "r-1" }, attrs: { kind }, parents: [] }];

  beforeEach(async () => {
    const { subject, ctx } = await adminSubject();
    expect((await publishPolicies(SERVICE_POLICIES, "service policies", subject, listActiveAdmins, ctx)).ok).toBe(true);
  });

  it("a forbid that cannot be evaluated denies, and says why (Cedar alone would skip it and allow)", async () => {
    expect(await ask({ context: { risk: 0.1 }, entities: report("report") })).toMatchObject({ decision: "allow", policies: ["reports-for-everyone"], errors: [] });
    expect(await ask({ context: { risk: 0.1 }, entities: report("secret") })).toMatchObject({ decision: "deny", policies: ["no-secrets"] });
    // The resource left out: "no-secrets" cannot be evaluated.
    expect(await ask({ context: { risk: 0.1 } })).toMatchObject({ decision: "deny", policies: ["no-secrets"], errors: [{ policyId: "no-secrets", message: expect.any(String) }] });
  });

  it("a request without a risk score is judged as the riskiest", async () => {
    expect(await ask({ entities: report("report") })).toMatchObject({ decision: "deny", policies: ["risk-ceiling"] });
    expect(await ask({ context: { risk: 0.69 }, entities: report("report") })).toMatchObject({ decision: "allow" });
  });

  it("addresses are read as Cedar reads them: IPv4-mapped IPv6 as its IPv4, odd IPv4 forms refused", async () => {
    const at = (ip: string) => ask({ context: { risk: 0, ip }, entities: report("report") });
    expect(await at("198.51.100.7")).toMatchObject({ decision: "allow" });
    expect(await at("::ffff:198.51.100.7")).toMatchObject({ decision: "allow", errors: [] });
    expect(await at("203.0.113.9")).toMatchObject({ decision: "deny", policies: ["not-from-the-test-net"] });
    // The same address in hex: Cedar would read it as IPv6, outside the IPv4 range.
    expect(await at("::ffff:cb00:7109")).toMatchObject({ decision: "deny", policies: ["not-from-the-test-net"] });
    expect(await at("2001:db8::1")).toMatchObject({ decision: "allow" });
    for (const odd of ["0xcb.0.113.9", "203.0.113", "3405803785", "not an address"]) expect(await at(odd), odd).toMatchObject({ refused: expect.any(Array) });
  });

  it("the country is the address's unless the service says which it is; a code that is not one is refused", async () => {
    const from = (context: Record<string, unknown>) => ask({ context: { risk: 0, ...context }, entities: report("report") });
    expect(await from({ ip: "133.242.0.1" })).toMatchObject({ decision: "deny", policies: ["not-from-japan"] });
    expect(await from({ ip: "85.214.132.117" })).toMatchObject({ decision: "allow" });
    // The service knows its caller is in Japan (its own GeoIP, a CDN's header): that is believed.
    expect(await from({ ip: "85.214.132.117", country: "JP" })).toMatchObject({ decision: "deny", policies: ["not-from-japan"] });
    expect(await from({ ip: "133.242.0.1", country: "" })).toMatchObject({ decision: "allow" });
    for (const odd of ["jp", "JPN", "J", 81]) expect(await from({ country: odd }), String(odd)).toMatchObject({ refused: expect.any(Array) });
  });

  it("a lone surrogate anywhere in a request (JSON's \"\\ud800\") is refused, not a server error; Cedar throwing on it denies", async () => {
    const lone = JSON.parse('"\\ud800"') as string;
    for (const request of [
      { principal: { type: "Gatehouse::User", id: lone } },
      { action: lone },
      { entities: [{ uid: { type: "Gatehouse::Resource", id: "r-1" }, attrs: { kind: lone }, parents: [] }] },
      { entities: [{ uid: { type: "Gatehouse::Resource", id: "r-1" }, attrs: { [lone]: "report" }, parents: [] }] },
    ]) {
      // (An attribute name that fails is reported by zod as an invalid key.)
      expect(await ask({ context: { risk: 0 }, ...request }), JSON.stringify(request)).toEqual({ refused: [expect.stringMatching(/no lone surrogate|Invalid input/)] });
    }
    const { preparsedId } = await policySetInForce();
    expect(decide(preparsedId, { principal: { type: "Gatehouse::User", id: lone }, action: { type: "Gatehouse::Action", id: "access" }, resource: { type: "Gatehouse::Resource", id: "r-1" }, context: {}, entities: [] }))
      .toMatchObject({ decision: "deny", errors: [{ message: expect.stringContaining("Cedar could not read the request") }] });
  });

  it("a value Cedar has no type for is refused, naming it, not answered as a plain deny", async () => {
    const attrs = (kind: unknown) => ({ entities: [{ uid: { type: "Gatehouse::Resource", id: "r-1" }, attrs: { kind }, parents: [] }] });
    for (const number of [1.5, 1e20]) expect(await ask({ context: { risk: 0 }, ...attrs(number) }), String(number)).toMatchObject({ refused: expect.any(Array) });
    expect(await ask({ context: { risk: 0 }, ...attrs({ __extn: { fn: "nope", arg: "x" } }) })).toEqual({ unreadable: expect.stringContaining("nope") });
    const batch = pdpBodySchema.parse({ requests: [1, 2].map((n) => ({ principal: { type: "Gatehouse::User", id: "u-1" }, action: "access", resource: { type: "Gatehouse::Resource", id: "r-1" }, context: { risk: 0 }, ...attrs(n === 1 ? "report" : { __extn: { fn: "nope", arg: "x" } }) })) });
    expect(await decideForService(batch, (await adminSubject()).ctx)).toEqual({ unreadable: expect.stringMatching(/^requests\[1\]: /) });
    expect(await ask({ context: { risk: 0 }, ...attrs(42) })).toMatchObject({ decision: "allow" });
  });

  it("a type name longer than the audit trail records is refused, not a server error when the decision is sampled", async () => {
    const long = `Gatehouse::${"R".repeat(60)}`;
    expect(await ask({ context: { risk: 0 }, resource: { type: long, id: "r-1" } })).toMatchObject({ refused: expect.any(Array) });
    // Sampled (the sample is drawn with Math.random): the longest type accepted is recorded, not a server error.
    const random = vi.spyOn(Math, "random").mockReturnValue(0);
    try {
      expect(await ask({ context: { risk: 0 }, resource: { type: long.slice(0, 64), id: "r-1" } })).toMatchObject({ decision: "deny" });
    } finally {
      random.mockRestore();
    }
    expect(await db().auditEvent.findFirst({ where: { action: "pdp.decision" } })).toMatchObject({ resourceType: long.slice(0, 64), resourceId: "r-1", outcome: "blocked" });
  });
});
