import { beforeEach, describe, expect, it, vi } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { findActiveSession } from "@/lib/auth/sessions";
import { completeMfaStep } from "@/lib/auth/mfa-step";
import type { RoleName } from "@/lib/auth/roles";
import { toCurrentUser, type CurrentUser } from "@/lib/auth/session-user";
import { resetDatabase } from "../support/db";
import { codeAt, withTotp } from "../support/mfa";
import { TEST_PASSWORD, client, ctx, makeUser } from "../support/factories";
import { formData as form } from "../support/forms";

// Closing an incident (resolved, false positive) cancels what is left of its playbook runs: through
// the console it needs a second factor verified in the last minutes, and is refused, saying why, to
// someone the incident is about. Taking it up stays one click. The server action runs for real with
// the request's session swapped in.

let signedIn: CurrentUser | null = null;
vi.mock("@/lib/auth/current", async (importOriginal) => ({ ...(await importOriginal<object>()), currentUser: async () => signedIn, currentPendingSignIn: async () => null }));
vi.mock("@/lib/auth/next-auth", () => ({ auth: async () => null, signIn: async () => undefined, signOut: async () => undefined, handlers: {}, ThrottledSignIn: class {}, RefusedSignIn: class {} }));
vi.mock("@/lib/http/request-context", () => ({ requestContext: async () => client(), requestPath: async () => "/" }));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));
vi.mock("next/headers", () => ({ headers: async () => new Headers({ "sec-fetch-site": "none" }) }));
const incidents = await import("@/app/admin/incidents/actions");

beforeEach(async () => {
  signedIn = null;
  await resetDatabase();
});

/** Someone with `roles` and TOTP, signed in with it; their MFA check was `minutesAgo` minutes ago. */
async function verified(roles: RoleName[], minutesAgo: number): Promise<CurrentUser> {
  const { user, secret } = await withTotp(roles);
  const result = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
  if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
  const pending = { ...toCurrentUser((await findActiveSession(result.sessionId))!), stage: "mfa_required" as const, requiredFactor: "any" as const };
  expect(await completeMfaStep(pending, { method: "totp", code: await codeAt(secret, new Date()) }, false, ctx)).toMatchObject({ ok: true });
  await db().session.update({ where: { id: result.sessionId }, data: { mfaVerifiedAt: new Date(Date.now() - minutesAgo * 60_000) } });
  return toCurrentUser((await findActiveSession(result.sessionId))!);
}

const incidentAbout = (userId: string) =>
  db().incident.create({ data: { type: "privilege_escalation", title: "Role granted at night", severity: "high", lastAlertAt: new Date(), indicators: { create: [{ kind: "user", value: userId }] } } });
const statusOf = async (id: string) => (await db().incident.findUniqueOrThrow({ where: { id } })).status;
const move = (incidentId: string, status: string) => form({ incidentId, status, reason: "checked with the user" });

describe("closing an incident from the console", () => {
  it("needs a fresh second factor; taking it up does not", async () => {
    signedIn = await verified(["analyst"], 10);
    const incident = await incidentAbout((await makeUser()).id);
    expect(await incidents.changeStatusAction({}, move(incident.id, "investigating"))).toMatchObject({ ok: true, message: "Status is now investigating." });
    for (const status of ["resolved", "false_positive"]) {
      expect(await incidents.changeStatusAction({}, move(incident.id, status))).toMatchObject({ ok: false, stepUp: true });
    }
    expect(await statusOf(incident.id)).toBe("investigating");

    signedIn = await verified(["analyst"], 1);
    expect(await incidents.changeStatusAction({}, move(incident.id, "false_positive"))).toMatchObject({ ok: true, message: "Status is now false positive." });
    expect(await statusOf(incident.id)).toBe("false_positive");
  });

  it("is refused, saying why, to the user the incident is about and to an analyst on an admin's incident", async () => {
    const admin = await verified(["admin"], 1);
    const ownIncident = await incidentAbout(admin.id);
    signedIn = admin;
    expect(await incidents.changeStatusAction({}, move(ownIncident.id, "false_positive"))).toMatchObject({ ok: false, message: "This incident is about your own account: someone else must close it." });

    signedIn = await verified(["analyst"], 1);
    expect(await incidents.changeStatusAction({}, move(ownIncident.id, "resolved"))).toMatchObject({
      ok: false, message: `Only an admin can close this incident: it is about ${admin.email}, accounts with roles or console access you lack, and closing it cancels any response still to run on them.`,
    });
    expect(await statusOf(ownIncident.id)).toBe("open");
    expect(await db().auditEvent.count({ where: { action: "incident.status", outcome: "blocked" } })).toBe(2);
  });
});
