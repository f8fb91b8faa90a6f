import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { db } from "@/lib/db/client";
import type { CurrentUser } from "@/lib/auth/session-user";
import { resetDatabase } from "../support/db";
import { client, makeUser } from "../support/factories";
import { REDIRECT_URI, webClient } from "../support/oidc";
import { formData as form } from "../support/forms";

// The console's client actions as a browser (or a forged request) calls them: the caller's role
// and a fresh second factor are checked on the server, the input is validated at the edge, and
// bad input gets a clear answer, never a server error, and changes nothing.

let signedIn: CurrentUser | null = null;
vi.mock("@/lib/auth/current", async (importOriginal) => ({ ...(await importOriginal<object>()), currentUser: async () => signedIn, currentPendingSignIn: async () => null }));
vi.mock("@/lib/auth/next-auth", () => ({ auth: async () => null, signIn: async () => undefined, signOut: async () => undefined, handlers: {}, ThrottledSignIn: class {}, RefusedSignIn: class {} }));
vi.mock("@/lib/http/request-context", () => ({ requestContext: async () => client(), requestPath: async () => "/" }));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));
const actions = await import("@/app/admin/clients/actions");

beforeEach(async () => {
  signedIn = null;
  await resetDatabase();
});

/** A signed-in user with `roles` whose last verification (second factor and password) was `minutesAgo` minutes ago. */
async function signedInAs(roles: ("admin" | "analyst")[], minutesAgo: number): Promise<CurrentUser> {
  const user = await makeUser({ roles });
  const verifiedAt = new Date(Date.now() - minutesAgo * 60_000);
  return { sessionId: randomUUID(), id: user.id, email: user.email, name: user.name, roles: user.roles, groups: [], mfaVerifiedAt: verifiedAt, passwordVerifiedAt: verifiedAt, authMethods: ["password", "totp"], riskScore: null, deviceTrusted: false, deviceId: null };
}

/** What the edit form sends for the web client, with `changes`. */
const editForm = (clientId: string, changes: Record<string, string | string[]> = {}) => form({
  clientId, name: "Flow app", type: "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: REDIRECT_URI,
  scopes: "openid profile offline_access", resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400", ...changes,
});

const clientRow = (id: string) => db().oAuthClient.findUnique({ where: { id } });

describe("the client actions", () => {
  it("edit with a fresh second factor; the form's rules are the create form's, and typed values come back on a refusal", async () => {
    const web = await webClient();
    signedIn = await signedInAs(["admin"], 1);
    expect(await actions.updateClientAction({}, editForm(web.clientId, { redirectUris: "https://app.example.test/other", requireDpop: "on" }))).toMatchObject({ ok: true });
    expect(await clientRow(web.clientId)).toMatchObject({ metadata: { redirect_uris: ["https://app.example.test/other"], dpop_bound_access_tokens: true } });

    const refused = await actions.updateClientAction({}, editForm(web.clientId, { redirectUris: "http://evil.example.test/cb", accessTokenTtl: "5", grantTypes: "refresh_token" }));
    expect(refused).toMatchObject({
      ok: false,
      fieldErrors: { accessTokenTtl: [expect.any(String)] },
      values: { redirectUris: "http://evil.example.test/cb", accessTokenTtl: "5", grantTypes: "refresh_token" },
    });
    // The shape rules (redirect URIs, grant combinations) once the fields parse, as at creation.
    expect(await actions.updateClientAction({}, editForm(web.clientId, { redirectUris: "http://evil.example.test/cb", grantTypes: "refresh_token" }))).toMatchObject({
      ok: false, fieldErrors: { redirectUris: [expect.stringMatching(/https/)], grantTypes: [expect.stringMatching(/authorization code/)] },
    });
    expect(await actions.updateClientAction({}, editForm(web.clientId, { type: "public" }))).toMatchObject({ ok: false, message: expect.stringMatching(/type cannot change/) });

    expect(await clientRow(web.clientId)).toMatchObject({ metadata: { redirect_uris: ["https://app.example.test/other"] } });
    // Two admins (or tabs) edit from the same version: the second save is refused rather than undoing the first unseen.
    const version = (await clientRow(web.clientId))!.updatedAt.toISOString();
    expect(await actions.updateClientAction({}, editForm(web.clientId, { version, name: "First edit" }))).toMatchObject({ ok: true });
    expect(await actions.updateClientAction({}, editForm(web.clientId, { version, name: "Second edit" }))).toMatchObject({ ok: false, message: expect.stringMatching(/changed this client after you opened it/) });
    expect((await clientRow(web.clientId))!.name).toBe("First edit");
  });

  it("that give access or cannot be undone (edit, new secret, delete) need a fresh second factor, and change nothing without", async () => {
    const web = await webClient();
    const before = await clientRow(web.clientId);
    signedIn = await signedInAs(["admin"], 10);
    for (const answer of [
      await actions.updateClientAction({}, editForm(web.clientId, { redirectUris: "https://attacker.example.test/cb" })),
      await actions.rotateClientSecretAction({}, form({ clientId: web.clientId })),
      await actions.deleteClientAction({}, form({ clientId: web.clientId })),
    ]) expect(answer).toMatchObject({ ok: false, stepUp: true });
    expect(await clientRow(web.clientId)).toEqual(before);
  });

  it("are refused to a role without the clients section, and to no one signed in", async () => {
    const web = await webClient();
    const before = await clientRow(web.clientId);
    for (const caller of [await signedInAs(["analyst"], 0), null]) {
      signedIn = caller;
      for (const answer of [
        await actions.updateClientAction({}, editForm(web.clientId, { name: "Taken over" })),
        await actions.rotateClientSecretAction({}, form({ clientId: web.clientId })),
        await actions.deleteClientAction({}, form({ clientId: web.clientId })),
      ]) expect(answer).toMatchObject({ ok: false });
    }
    expect(await clientRow(web.clientId)).toEqual(before);
  });

  it("answer bad input clearly: an unknown client, wrong types, oversized fields", async () => {
    const web = await webClient();
    const before = await clientRow(web.clientId);
    signedIn = await signedInAs(["admin"], 0);
    const unknown = { ok: false, message: "No such client." };
    expect(await actions.updateClientAction({}, editForm("gh_no_such_client"))).toMatchObject(unknown);
    expect(await actions.rotateClientSecretAction({}, form({ clientId: "gh_no_such_client", overlap: "on" }))).toMatchObject(unknown);
    expect(await actions.deleteClientAction({}, form({ clientId: "<script>alert(1)</script>" }))).toMatchObject(unknown);

    const invalid = { ok: false, message: "Check the highlighted fields." };
    expect(await actions.rotateClientSecretAction({}, form({ clientId: web.clientId, overlap: "yes" }))).toMatchObject({ ...invalid, fieldErrors: { overlap: [expect.any(String)] } });
    expect(await actions.deleteClientAction({}, form({ clientId: [web.clientId, web.clientId] }))).toMatchObject({ ...invalid, fieldErrors: { clientId: [expect.any(String)] } });
    expect(await actions.deleteClientAction({}, form({ clientId: "x".repeat(10_000) }))).toMatchObject(invalid);
    expect(await actions.deleteClientAction({}, form({}))).toMatchObject(invalid);
    expect(await actions.updateClientAction({}, editForm(web.clientId, { name: "n".repeat(81), redirectUris: `https://app.example.test/${"x".repeat(5_000)}`, scopes: ["openid", "email"] }))).toMatchObject({
      ...invalid, fieldErrors: { name: [expect.any(String)], redirectUris: [expect.any(String)], scopes: [expect.any(String)] },
    });
    expect(await actions.updateClientAction({}, editForm(web.clientId, { grantTypes: "implicit" }))).toMatchObject({ ...invalid, fieldErrors: { grantTypes: [expect.any(String)] } });
    expect(await actions.updateClientAction({}, editForm(web.clientId, { accessTokenTtl: "ten" }))).toMatchObject({ ...invalid, fieldErrors: { accessTokenTtl: [expect.any(String)] } });
    expect(await actions.updateClientAction({}, editForm(web.clientId, { name: "A\u0000B" }))).toMatchObject({ ...invalid, fieldErrors: { name: ["Remove the NUL character."] } });
    expect(await clientRow(web.clientId)).toEqual(before);
    expect(await db().auditEvent.count({ where: { action: { in: ["oauth.client.update", "oauth.client.secret.rotate", "oauth.client.delete"] } } })).toBe(0);
  });

  it("a new secret is handed back once; deleting goes back to the list", async () => {
    const web = await webClient();
    signedIn = await signedInAs(["admin"], 1);
    const rotated = await actions.rotateClientSecretAction({}, form({ clientId: web.clientId, overlap: "on" }));
    expect(rotated).toMatchObject({ ok: true, message: expect.stringMatching(/keeps working for an hour/), data: { clientSecret: expect.any(String) } });
    expect(await actions.rotateClientSecretAction({}, form({ clientId: (await webClient({ type: "public" })).clientId }))).toMatchObject({ ok: false, message: "A public client has no secret." });

    await expect(actions.deleteClientAction({}, form({ clientId: web.clientId }))).rejects.toMatchObject({ digest: expect.stringContaining("/admin/clients") });
    expect(await clientRow(web.clientId)).toBeNull();
  });
});
