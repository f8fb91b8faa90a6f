import { beforeEach, describe, expect, it } from "vitest";
// First: it swaps the request's session in before any action module is loaded.
import { actAs, signedInWithTotp } from "../support/server-actions";
import { db } from "@/lib/db/client";
import { resetDatabase } from "../support/db";
import { makeUser } from "../support/factories";
import { formData as form } from "../support/forms";

// Closing an incident (resolved, false positive) cancels what is left of its playbook runs: through
// the console it needs a second factor verified in the last minutes, and is refused, saying why, to
// someone the incident is about. Taking it up stays one click. The server action runs for real with
// the request's session swapped in.

const incidents = await import("@/app/admin/incidents/actions");

beforeEach(async () => {
  actAs(null);
  await resetDatabase();
});

const incidentAbout = (userId: string) =>
  db().incident.create({ data: { type: "privilege_escalation", title: "Role granted at night", severity: "high", lastAlertAt: new Date(), indicators: { create: [{ kind: "user", value: userId }] } } });
const statusOf = async (id: string) => (await db().incident.findUniqueOrThrow({ where: { id } })).status;
const move = (incidentId: string, status: string) => form({ incidentId, status, reason: "checked with the user" });

describe("closing an incident from the console", () => {
  it("needs a fresh second factor; taking it up does not", async () => {
    actAs(await signedInWithTotp(["analyst"], 10));
    const incident = await incidentAbout((await makeUser()).id);
    expect(await incidents.changeStatusAction({}, move(incident.id, "investigating"))).toMatchObject({ ok: true, message: "Status is now investigating." });
    for (const status of ["resolved", "false_positive"]) {
      expect(await incidents.changeStatusAction({}, move(incident.id, status))).toMatchObject({ ok: false, stepUp: true });
    }
    expect(await statusOf(incident.id)).toBe("investigating");

    actAs(await signedInWithTotp(["analyst"], 1));
    expect(await incidents.changeStatusAction({}, move(incident.id, "false_positive"))).toMatchObject({ ok: true, message: "Status is now false positive." });
    expect(await statusOf(incident.id)).toBe("false_positive");
  });

  it("is refused, saying why, to the user the incident is about and to an analyst on an admin's incident", async () => {
    const admin = await signedInWithTotp(["admin"], 1);
    const ownIncident = await incidentAbout(admin.id);
    actAs(admin);
    expect(await incidents.changeStatusAction({}, move(ownIncident.id, "false_positive"))).toMatchObject({ ok: false, message: "This incident is about your own account: someone else must close it." });

    actAs(await signedInWithTotp(["analyst"], 1));
    expect(await incidents.changeStatusAction({}, move(ownIncident.id, "resolved"))).toMatchObject({
      ok: false, message: `Only an admin can close this incident: it is about ${admin.email}, accounts with roles or console access you lack, and closing it cancels any response still to run on them.`,
    });
    expect(await statusOf(ownIncident.id)).toBe("open");
    expect(await db().auditEvent.count({ where: { action: "incident.status", outcome: "blocked" } })).toBe(2);
  });
});
