import { beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { CurrentUser } from "@/lib/auth/current";
import { db } from "@/lib/db/client";

// The guard is tested with the signed-in user swapped in; everything else is the real code.
let signedIn: CurrentUser | null = null;
vi.mock("@/lib/auth/current", () => ({ currentUser: async () => signedIn, currentPendingSignIn: async () => null, hasFreshMfa: () => false }));
const client = { ip: "203.0.113.9", userAgent: "test-agent" };
vi.mock("@/lib/http/request-context", () => ({ requestContext: async () => client }));
const { guardedAction, manyValues } = await import("@/lib/auth/action");

const asUser = (roles: CurrentUser["roles"]): CurrentUser => ({
  sessionId: "s", id: "u", email: "u@example.test", name: "U", roles, mfaVerifiedAt: null, passwordVerifiedAt: null, authMethods: ["password"], riskScore: 0, deviceTrusted: false,
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
    const denied = await db().auditEvent.findFirst({ where: { action: "access.denied", actorId: "auditor-1" }, select: { outcome: true, resourceId: true, metadata: true } });
    expect(denied).toEqual({ outcome: "blocked", resourceId: "users", metadata: { action: "manage" } });
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
      expect.objectContaining({ actor: expect.objectContaining({ type: "user", id: "u" }), client }),
    );
  });
});
