import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { ensureSigningKeys, providerJwks, retireDueKeys, rotateSigningKeys, RETIRE_AFTER_MS } from "@/lib/oidc/keys";
import { clientInputSchema, createClient, clientMetadata, redirectUriProblem, secretMatches, setClientDisabled } from "@/lib/oidc/clients";
import { resetDatabase } from "../support/db";
import { ctx, makeUser } from "../support/factories";
import { listClientGrants, rememberConsent, revokeConnectedApp } from "@/lib/oidc/consents";

beforeEach(resetDatabase);

describe("signing keys", () => {
  it("are created once, encrypted at rest, and rotate through retiring to retired", async () => {
    await ensureSigningKeys();
    await ensureSigningKeys();
    const initial = await db().oidcSigningKey.findMany();
    expect(initial.map((k) => k.alg).sort()).toEqual(["ES256", "EdDSA"]);
    expect(initial.every((k) => !k.privateJwkCipher.includes('"d"') && !("d" in (k.publicJwk as object)))).toBe(true);

    const newKids = await rotateSigningKeys(ctx);
    const { keys } = await providerJwks();
    expect(keys).toHaveLength(4);
    // Active keys come first: they are the ones the provider signs with.
    expect(keys.slice(0, 2).map((k) => k.kid).sort()).toEqual([...newKids].sort());
    expect(keys.every((k) => typeof k.d === "string")).toBe(true);

    expect(await retireDueKeys(new Date(Date.now() + RETIRE_AFTER_MS - 60_000))).toBe(0);
    expect(await retireDueKeys(new Date(Date.now() + RETIRE_AFTER_MS + 60_000))).toBe(2);
    expect((await providerJwks()).keys.map((k) => k.kid).sort()).toEqual([...newKids].sort());
    expect(await db().auditEvent.count({ where: { action: "oauth.keys.rotate" } })).toBe(1);
  });
});

describe("clients", () => {
  const valid = {
    name: "App", type: "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: "https://app.example.test/cb",
    scopes: "openid email api:read", resources: "https://api.example.test", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
  };

  it("accept only https or loopback-IP redirect URIs without fragments", () => {
    expect(redirectUriProblem("https://app.example.test/cb")).toBeNull();
    expect(redirectUriProblem("http://127.0.0.1:8080/cb")).toBeNull();
    expect(redirectUriProblem("http://[::1]/cb")).toBeNull();
    expect(redirectUriProblem("http://app.example.test/cb")).toMatch(/https/);
    expect(redirectUriProblem("http://localhost/cb")).toMatch(/https/);
    expect(redirectUriProblem("https://app.example.test/cb#x")).toMatch(/fragment/);
    expect(redirectUriProblem("not a url")).toMatch(/not a URL/);
    const parsed = clientInputSchema.safeParse({ ...valid, redirectUris: "http://evil.example.test/cb" });
    expect(parsed.success).toBe(false);
    expect(clientInputSchema.safeParse({ ...valid, type: "public", grantTypes: ["client_credentials"] }).success).toBe(false);
  });

  it("keep only a hash of the secret, split OpenID and API scopes, and vanish for the provider when disabled", async () => {
    const input = clientInputSchema.parse(valid);
    const { clientId, clientSecret } = await createClient(input, ctx);
    const row = await db().oAuthClient.findUniqueOrThrow({ where: { id: clientId } });
    expect(JSON.stringify(row)).not.toContain(clientSecret!);
    expect(secretMatches(row.secretHash!, clientSecret!)).toBe(true);
    expect(secretMatches(row.secretHash!, `${clientSecret}x`)).toBe(false);
    expect(await clientMetadata(clientId)).toMatchObject({ scope: "openid email", gatehouse_api_scopes: ["api:read"], client_secret: row.secretHash });
    await setClientDisabled(clientId, true, ctx);
    expect(await clientMetadata(clientId)).toBeUndefined();
  });
});

describe("grants", () => {
  it("an admin sees who granted a client access, and revokes one user's grant with its tokens", async () => {
    const { clientId } = await createClient(clientInputSchema.parse({
      name: "App", type: "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: "https://app.example.test/cb",
      scopes: "openid email", resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    const [ana, bo] = [await makeUser(), await makeUser()];
    for (const [user, grantId] of [[ana, "grant-ana"], [bo, "grant-bo"]] as const) {
      await db().oidcModel.create({ data: { kind: "Grant", id: grantId, payload: { accountId: user.id, clientId: clientId } } });
      await db().oidcModel.create({ data: { kind: "RefreshToken", id: `rt-${grantId}`, grantId, payload: { accountId: user.id, clientId: clientId } } });
      await rememberConsent(user.id, clientId, grantId, ["openid", "email"]);
    }
    expect((await listClientGrants(clientId)).map((g) => g.userId).sort()).toEqual([ana.id, bo.id].sort());

    expect(await revokeConnectedApp(ana.id, clientId, ctx)).toBe(true);
    expect((await listClientGrants(clientId)).map((g) => g.userId)).toEqual([bo.id]);
    expect((await db().oidcModel.findMany({ select: { id: true }, orderBy: { id: "asc" } })).map((m) => m.id)).toEqual(["grant-bo", "rt-grant-bo"]);
    expect(await revokeConnectedApp(ana.id, clientId, ctx)).toBe(false);
    expect(await db().auditEvent.count({ where: { action: "oauth.consent.revoke" } })).toBe(1);
  });
});
