import { beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { CurrentUser, PendingSignIn } from "@/lib/auth/current";
import { db } from "@/lib/db/client";
import { policySetInForce } from "@/lib/policy";
import { withTotp } from "../support/mfa";

// The guard is tested with the signed-in user swapped in; everything else is the real code.
let signedIn: CurrentUser | null = null;
let pending: PendingSignIn | null = null;
vi.mock("@/lib/auth/current", () => ({ currentUser: async () => signedIn, currentPendingSignIn: async () => pending, hasFreshMfa: () => false }));
const client = { ip: "203.0.113.9", userAgent: "test-agent" };
vi.mock("@/lib/http/request-context", () => ({ requestContext: async () => client }));
const { guardedAction, manyValues } = await import("@/lib/auth/action");

const asUser = (roles: CurrentUser["roles"]): CurrentUser => ({
  sessionId: "s", id: "u", email: "u@example.test", name: "U", roles, groups: [], mfaVerifiedAt: null, passwordVerifiedAt: null, authMethods: ["password"], riskScore: 0, deviceTrusted: false, deviceId: null,
});
const form = (entries: [string, string][]) => {
  const data = new FormData();
  for (const [k, v] of entries) data.append(k, v);
  return data;
};

describe("guardedAction", () => {
  const handler = vi.fn(async () => ({ ok: true, message: "done" }));
  // The built-in policies let admins manage users (lib/policy/schema.ts).
  const adminOnly = guardedAction({ section: "users", action: "manage" }, z.object({ name: z.string().min(2), tags: manyValues(z.string()) }), handler);

  beforeEach(() => {
    handler.mockClear();
    signedIn = null;
    pending = null;
  });

  it("refuses a signed-out caller and never runs the handler", async () => {
    expect(await adminOnly({}, form([["name", "ok"]]))).toMatchObject({ ok: false, message: expect.stringMatching(/sign in/i) });
    expect(handler).not.toHaveBeenCalled();
  });

  it("refuses a caller the access policies do not allow", async () => {
    signedIn = { ...asUser(["user", "auditor"]), id: "auditor-1" };
    expect(await adminOnly({}, form([["name", "ok"]]))).toMatchObject({ ok: false, message: expect.stringMatching(/policies do not allow/i) });
    expect(handler).not.toHaveBeenCalled();
    // The refusal is on the record, with who asked for what.
    const denied = await db().auditEvent.findFirst({ where: { action: "access.denied", actorId: "auditor-1" }, select: { outcome: true, resourceId: true, metadata: true, policyDecisions: true } });
    // With the decision behind it: nothing permitted it (no forbid named), under the version in force
    // (the built-in roles, version 0, or a test file's earlier publish: this file keeps the database).
    const { version } = await policySetInForce();
    expect(denied).toEqual({ outcome: "blocked", resourceId: "users", metadata: { action: "manage" }, policyDecisions: [{ action: "manage", decision: "deny", policies: [], version }] });
  });

  it("validates input by field and echoes it back without secrets", async () => {
    signedIn = asUser(["user", "admin"]);
    const state = await adminOnly({}, form([["name", "x"], ["password", "hunter2hunter2"], ["tags", "a"], ["tags", "b"]]));
    expect(state.fieldErrors?.name?.[0]).toBeTruthy();
    expect(state.values).toEqual({ name: "x", tags: ["a", "b"] });
    expect(handler).not.toHaveBeenCalled();
  });

  it("refuses forged calls: arguments that are not a form, and NUL characters PostgreSQL cannot store", async () => {
    signedIn = asUser(["user", "admin"]);
    expect(await adminOnly({}, { name: "Ada" } as unknown as FormData)).toEqual({ ok: false, message: "Send this as a form." });
    const withPrototype = form([["name", "Ada"]]);
    withPrototype.append("__proto__", new File(["x"], "evil.txt"));
    expect(await adminOnly({}, withPrototype)).toEqual({ ok: true, message: "done" });
    expect(handler).toHaveBeenCalledWith({ name: "Ada", tags: [] }, expect.anything(), expect.anything());
    handler.mockClear();
    const state = await adminOnly({}, form([["name", "Ada\u0000"], ["tags", "a"]]));
    expect(state).toMatchObject({ ok: false, fieldErrors: { name: ["Remove the NUL character."] } });
    expect(handler).not.toHaveBeenCalled();
  });

  it("passes parsed input and the user to the handler", async () => {
    signedIn = asUser(["user", "admin"]);
    expect(await adminOnly({}, form([["name", "Ada"], ["tags", "a"]]))).toEqual({ ok: true, message: "done" });
    expect(handler).toHaveBeenCalledWith(
      { name: "Ada", tags: ["a"] },
      signedIn,
      expect.objectContaining({ actor: expect.objectContaining({ type: "user", id: "u" }), client: { ...client, deviceId: null } }),
    );
  });

  it("ends a sign-in waiting to enroll a first factor once the account has one from elsewhere", async () => {
    const { user } = await withTotp();
    const session = await db().session.create({ data: { userId: user.id, stage: "enrollment_required", expiresAt: new Date(Date.now() + 600_000) } });
    pending = { ...asUser(["user"]), id: user.id, email: user.email, sessionId: session.id, stage: "enrollment_required", requiredFactor: "any" };
    const enroll = guardedAction("account-setup", z.object({}), handler);
    expect(await enroll({}, form([]))).toEqual({ ok: false, message: "Your session has ended. Sign in again." });
    expect(handler).not.toHaveBeenCalled();
    expect(await db().session.findUniqueOrThrow({ where: { id: session.id } })).toMatchObject({ endReason: "factor_enrolled_elsewhere", endedAt: expect.any(Date) });
  });

  it("keeps the form when the handler fails unexpectedly, and logs a reference without what the error quotes", async () => {
    signedIn = asUser(["user", "admin"]);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const failing = guardedAction("signed-in", z.object({ name: z.string() }), async () => {
        throw Object.assign(new Error("Invalid `prisma.user.update()` invocation:\n  data: { passwordHash: \"$argon2id$secret\" }"), { code: "P2002" });
      });
      const state = await failing({}, form([["name", "Ada"]]));
      const reference = /reference ([0-9a-f]{8})\./.exec(state.message ?? "")?.[1];
      expect(state).toMatchObject({ ok: false, values: { name: "Ada" } });
      expect(reference).toBeTruthy();
      const lines = logged.mock.calls.map((call) => call.join(" "));
      expect(lines).toEqual([`[action] failed, reference ${reference}: Error P2002: Invalid \`prisma.user.update()\` invocation:`]);
    } finally {
      logged.mockRestore();
    }
  });

  it("with askReason, needs the caller's reason and hands it to the handler's audit context as the justification", async () => {
    signedIn = asUser(["user", "admin"]);
    const why = guardedAction("signed-in", z.object({ name: z.string() }), handler, { askReason: true });
    expect(await why({}, form([["name", "Ada"]]))).toMatchObject({ ok: false, fieldErrors: { reason: [expect.stringMatching(/Say why/)] } });
    expect(handler).not.toHaveBeenCalled();
    expect(await why({}, form([["name", "Ada"], ["reason", " ticket 42 "]]))).toEqual({ ok: true, message: "done" });
    expect(handler).toHaveBeenCalledWith({ name: "Ada" }, signedIn, expect.objectContaining({ justification: "ticket 42" }));
  });

  it("lets a handler's redirect through, and gives field errors a message to announce", async () => {
    signedIn = asUser(["user", "admin"]);
    const { redirect } = await import("next/navigation");
    const leaving = guardedAction("signed-in", z.object({}), async () => redirect("/account"));
    await expect(leaving({}, form([]))).rejects.toMatchObject({ digest: expect.stringMatching(/^NEXT_REDIRECT/) });
    const refused = guardedAction("signed-in", z.object({ email: z.string() }), async () => ({ ok: false, fieldErrors: { email: ["Taken."] } }));
    expect(await refused({}, form([["email", "a@b.test"]]))).toEqual({ ok: false, message: "Check the highlighted fields.", fieldErrors: { email: ["Taken."] }, values: { email: "a@b.test" } });
  });
});
