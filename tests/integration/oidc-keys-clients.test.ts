import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { importJWK, SignJWT, type JWK } from "jose";
import { db } from "@/lib/db/client";
import { PROVIDER_SESSION_TTL } from "@/lib/oidc/token-lifetimes";
import { ensureSigningKeys, listSigningKeys, providerJwks, publicJwks, retireDueKeys, retireSigningKeyNow, rotateSigningKeys, RETIRE_AFTER_MS } from "@/lib/oidc/keys";
import { clientInputSchema, createClient, clientMetadata, redirectUriProblem, registrationProblem, secretMatches, setClientDisabled } from "@/lib/oidc/clients";
import { PostgresAdapter } from "@/lib/oidc/adapter";
import { resetDatabase } from "../support/db";
import { ctx, makeUser } from "../support/factories";
import { forgetConsentsForGrant, listClientGrants, listConnectedApps, recordConsent, rememberedGrantId, revokeConnectedApp } from "@/lib/oidc/consents";
import { verifyAccessToken } from "@/lib/oidc/access-tokens";
import { issuer } from "@/lib/oidc/provider";
import { issueInitialAccessToken } from "@/lib/oidc/registration";
import { providerForTests } from "../support/oidc";

const provider = providerForTests();
beforeEach(resetDatabase);

/** A machine client of the decision point, as an admin makes one: its id. */
async function machineClient(): Promise<string> {
  const client = await createClient(clientInputSchema.parse({
    name: "Service", type: "confidential", grantTypes: ["client_credentials"], redirectUris: "", scopes: "pdp",
    resources: "https://gatehouse.example.test/api/v1/authorize", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
  }), ctx);
  return client.clientId;
}

describe("signing keys", () => {
  it("are created once, encrypted at rest, and rotate through retiring to retired", async () => {
    await ensureSigningKeys();
    await ensureSigningKeys();
    const initial = await db().oidcSigningKey.findMany();
    expect(initial.map((k) => k.alg).sort()).toEqual(["ES256", "EdDSA"]);
    expect(initial.every((k) => !k.privateJwkCipher!.includes('"d"') && !("d" in (k.publicJwk as object)))).toBe(true);

    const newKids = await rotateSigningKeys(ctx);
    const { keys } = await providerJwks();
    expect(keys).toHaveLength(4);
    // Active keys come first: they are the ones the provider signs with.
    expect(keys.slice(0, 2).map((k) => k.kid).sort()).toEqual([...newKids].sort());
    expect(keys.every((k) => typeof k.d === "string")).toBe(true);

    // The console shows a key due for retirement as retired from its due time, before any instance has marked it.
    const afterGrace = new Date(Date.now() + RETIRE_AFTER_MS + 60_000);
    expect((await listSigningKeys()).filter((k) => k.state === "retiring")).toHaveLength(2);
    expect((await listSigningKeys(afterGrace)).filter((k) => k.state === "retired").map((k) => k.kid).sort()).toEqual(initial.map((k) => k.kid).sort());

    expect(await retireDueKeys(new Date(Date.now() + RETIRE_AFTER_MS - 60_000))).toBe(0);
    expect(await retireDueKeys(afterGrace)).toBe(2);
    expect(await retireDueKeys(afterGrace)).toBe(0);
    // Each retirement is on the trail once, whichever instance made it.
    expect((await db().auditEvent.findMany({ where: { action: "oauth.keys.retire" }, select: { resourceId: true, metadata: true } })).map((e) => [e.resourceId, (e.metadata as { early: boolean }).early]).sort())
      .toEqual(initial.map((k) => [k.kid, false]).sort());
    expect((await providerJwks()).keys.map((k) => k.kid).sort()).toEqual([...newKids].sort());
    expect(await db().auditEvent.count({ where: { action: "oauth.keys.rotate" } })).toBe(1);
    // Retired, a key keeps only its public half.
    expect(await db().oidcSigningKey.findMany({ where: { state: "retired" }, select: { privateJwkCipher: true } })).toEqual([{ privateJwkCipher: null }, { privateJwkCipher: null }]);
  });

  it("stay one active key per algorithm when instances create or rotate them at once", async () => {
    await Promise.all([ensureSigningKeys(), ensureSigningKeys(), ensureSigningKeys()]);
    expect(await db().oidcSigningKey.count({ where: { state: "active" } })).toBe(2);
    await Promise.all([rotateSigningKeys(ctx), rotateSigningKeys(ctx)]);
    expect(await db().oidcSigningKey.count({ where: { state: "active" } })).toBe(2);
    expect(await db().oidcSigningKey.count({ where: { state: "retiring" } })).toBe(4);
  });

  it("rotate on schedule only once old enough, once across instances, audited as scheduled", async () => {
    await ensureSigningKeys();
    const weekAgo = new Date(Date.now() - 7 * 86_400_000);
    expect(await rotateSigningKeys(ctx, new Date(), { olderThan: weekAgo })).toEqual([]);
    await db().oidcSigningKey.updateMany({ where: { state: "active" }, data: { createdAt: new Date(Date.now() - 8 * 86_400_000) } });
    const runs = await Promise.all([rotateSigningKeys(ctx, new Date(), { olderThan: weekAgo }), rotateSigningKeys(ctx, new Date(), { olderThan: weekAgo })]);
    expect(runs.flat()).toHaveLength(2);
    expect(await db().oidcSigningKey.count({ where: { state: "active", createdAt: { gte: weekAgo } } })).toBe(2);
    // The two runs may share the work (one algorithm each): two new keys in all, each recorded as scheduled.
    const recorded = (await db().auditEvent.findMany({ where: { action: "oauth.keys.rotate" }, select: { metadata: true } })).map((e) => e.metadata as { newKids: string[]; scheduled: boolean });
    expect(recorded.flatMap((m) => m.newKids).sort()).toEqual(runs.flat().sort());
    expect(recorded.every((m) => m.scheduled)).toBe(true);
  });

  it("keep a rotated key in JWKS as long as an ID token it signed can come back as id_token_hint", async () => {
    await ensureSigningKeys();
    const old = (await publicJwks()).map((k) => k.kid);
    await rotateSigningKeys(ctx);
    // The end of the provider session the last ID token of the old key was issued in.
    const sessionEnds = new Date(Date.now() + PROVIDER_SESSION_TTL * 1000);
    expect((await publicJwks(sessionEnds)).map((k) => k.kid)).toEqual(expect.arrayContaining(old));
  });
});

describe("signing keys in the provider's JWKS", () => {
  // What the provider publishes once every instance has checked its keys (each does every 500 ms).
  const published = async () => {
    await new Promise((resolve) => setTimeout(resolve, 600));
    const { keys } = (await (await fetch(`${provider.origin}/oidc/jwks`)).json()) as { keys: JWK[] };
    return keys.map((k) => k.kid).sort();
  };

  it("a retiring key leaves when due, without a restart, and the console shows it retired", async () => {
    await ensureSigningKeys();
    const [old] = await listSigningKeys();
    const newKids = await rotateSigningKeys(ctx);
    expect(await published()).toContain(old!.kid);

    // Its grace period ends (as if the provider's session lifetime had passed).
    await db().oidcSigningKey.updateMany({ where: { state: "retiring" }, data: { retireAfter: new Date(Date.now() - 1000) } });
    expect(await published()).toEqual([...newKids].sort());
    expect((await listSigningKeys()).find((k) => k.kid === old!.kid)).toMatchObject({ state: "retired", retiredAt: expect.any(Date) });
  });

  it("a leaked key is retired at once: out of JWKS and of the keys Gatehouse's APIs accept, audited", async () => {
    await ensureSigningKeys();
    const [leaked] = await listSigningKeys();
    expect(await retireSigningKeyNow(leaked!.kid, ctx)).toBe(false); // active: rotate first
    await rotateSigningKeys(ctx);

    expect(await retireSigningKeyNow(leaked!.kid, ctx)).toBe(true);
    expect(await published()).not.toContain(leaked!.kid);
    expect((await publicJwks()).map((k) => k.kid)).not.toContain(leaked!.kid);
    expect(await db().auditEvent.count({ where: { action: "oauth.keys.retire", resourceId: leaked!.kid } })).toBe(1);
  });
});

describe("access tokens for Gatehouse's own APIs", () => {
  const api = "https://gatehouse.example.test/api/v1/authorize";
  afterEach(() => vi.useRealTimers());
  let svc: string;
  beforeEach(async () => (svc = await machineClient()));

  async function signed(key: JWK, claims: Record<string, unknown>, expiresIn: string, subject = svc) {
    return new SignJWT({ scope: "pdp", client_id: svc, ...claims })
      .setProtectedHeader({ alg: key.alg!, kid: key.kid!, typ: "at+jwt" })
      .setIssuer(issuer()).setAudience(api).setSubject(subject).setIssuedAt().setExpirationTime(expiresIn)
      .sign(await importJWK(key, key.alg));
  }

  it("verify while valid, also when remembered: not past expiry, not for another audience or scope, not once the key retires", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 10_000 }); // past any key set cached by an earlier test
    await ensureSigningKeys();
    const es256 = (await providerJwks()).keys.find((k) => k.alg === "ES256")!;
    const token = await signed(es256, {}, "48h");
    for (let i = 0; i < 2; i++) expect(await verifyAccessToken(token, api, "pdp")).toMatchObject({ clientId: svc, subject: svc });
    expect(await verifyAccessToken(token, api, "admin")).toMatchObject({ error: "insufficient_scope" });
    expect(await verifyAccessToken(token, "https://other.example.test", "pdp")).toMatchObject({ error: "invalid_token" });
    const [header, payload, signature] = token.split(".");
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), scope: "pdp admin" })).toString("base64url");
    expect(await verifyAccessToken(`${header}.${widened}.${signature}`, api, "admin")).toMatchObject({ error: "invalid_token" });

    const shortLived = await signed(es256, {}, "2s");
    expect(await verifyAccessToken(shortLived, api, "pdp")).toMatchObject({ clientId: svc });
    vi.setSystemTime(Date.now() + 3_000);
    expect(await verifyAccessToken(shortLived, api, "pdp")).toMatchObject({ error: "invalid_token" });

    // A rotated key keeps verifying while it is retiring, then its tokens are refused.
    await rotateSigningKeys(ctx);
    vi.setSystemTime(Date.now() + 6_000);
    expect(await verifyAccessToken(token, api, "pdp")).toMatchObject({ clientId: svc });
    vi.setSystemTime(Date.now() + RETIRE_AFTER_MS);
    expect(await verifyAccessToken(token, api, "pdp")).toMatchObject({ error: "invalid_token" });
  });

  it("stop verifying, remembered or not, once their client is disabled or deleted", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + RETIRE_AFTER_MS + 86_400_000 }); // past any key set cached by an earlier test, before the next one
    await ensureSigningKeys();
    const es256 = (await providerJwks()).keys.find((k) => k.alg === "ES256")!;
    const token = await signed(es256, {}, "1h");
    expect(await verifyAccessToken(token, api, "pdp")).toMatchObject({ clientId: svc });
    expect(await setClientDisabled(svc, true, ctx)).toBe("changed");
    expect(await verifyAccessToken(token, api, "pdp")).toEqual({ error: "invalid_token", description: "The client this token was issued to is disabled or deleted." });
    // Disabled again: when it was first disabled stays, and nothing new is audited.
    const { disabledAt } = await db().oAuthClient.findUniqueOrThrow({ where: { id: svc } });
    expect(await setClientDisabled(svc, true, ctx)).toBe("unchanged");
    expect((await db().oAuthClient.findUniqueOrThrow({ where: { id: svc } })).disabledAt).toEqual(disabledAt);
    expect(await db().auditEvent.count({ where: { action: "oauth.client.disable", resourceId: svc } })).toBe(1);
    expect(await setClientDisabled("no-such-client", true, ctx)).toBe("missing");
    expect(await setClientDisabled(svc, false, ctx)).toBe("changed");
    expect(await setClientDisabled(svc, false, ctx)).toBe("unchanged");
    expect(await db().auditEvent.count({ where: { action: "oauth.client.enable", resourceId: svc } })).toBe(1);
    expect(await verifyAccessToken(token, api, "pdp")).toMatchObject({ clientId: svc });
    const stranger = await signed(es256, { client_id: "no-such-client" }, "1h");
    expect(await verifyAccessToken(stranger, api, "pdp")).toMatchObject({ error: "invalid_token" });
  });

  it("for an API that answers services only, a token issued to the client for a user is refused", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + RETIRE_AFTER_MS + 1.5 * 86_400_000 }); // past any key set cached by an earlier test, before the next one
    await ensureSigningKeys();
    const es256 = (await providerJwks()).keys.find((k) => k.alg === "ES256")!;
    const forUser = await signed(es256, {}, "1h", "a-user-id");
    expect(await verifyAccessToken(forUser, api, "pdp")).toMatchObject({ clientId: svc, subject: "a-user-id" });
    expect(await verifyAccessToken(forUser, api, "pdp", { clientsOnly: true })).toMatchObject({ error: "invalid_token", description: expect.stringContaining("client credentials") });
    expect(await verifyAccessToken(await signed(es256, {}, "1h"), api, "pdp", { clientsOnly: true })).toMatchObject({ clientId: svc, subject: svc });
  });
});

describe("access tokens signed right after a rotation", () => {
  const api = "https://gatehouse.example.test/api/v1/authorize";
  afterEach(() => vi.useRealTimers());
  let svc: string;
  beforeEach(async () => (svc = await machineClient()));
  const signedBy = async (key: JWK) => new SignJWT({ scope: "pdp", client_id: svc }).setProtectedHeader({ alg: key.alg!, kid: key.kid!, typ: "at+jwt" })
    .setIssuer(issuer()).setAudience(api).setSubject(svc).setIssuedAt().setExpirationTime("1h").sign(await importJWK(key, key.alg));

  it("verify at once: a key id the cached set lacks makes the verifier read the keys again", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + RETIRE_AFTER_MS + 2 * 86_400_000 }); // past any key set cached by an earlier test
    await ensureSigningKeys();
    const es256 = async () => (await providerJwks()).keys.find((k) => k.alg === "ES256")!;
    expect(await verifyAccessToken(await signedBy(await es256()), api, "pdp")).toMatchObject({ clientId: svc });

    await rotateSigningKeys(ctx);
    vi.setSystemTime(Date.now() + 1_000); // the provider signs with the new key by now; the verifier's set is 1 s old
    expect(await verifyAccessToken(await signedBy(await es256()), api, "pdp")).toMatchObject({ clientId: svc });
    const madeUp = { ...(await es256()), kid: "made-up" };
    expect(await verifyAccessToken(await signedBy(madeUp), api, "pdp")).toMatchObject({ error: "invalid_token" });
  });
});

describe("clients", () => {
  const valid = {
    name: "App", type: "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: "https://app.example.test/cb",
    scopes: "openid email api:read", resources: "https://api.example.test", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
  };

  it("are bound to a client certificate only where a trusted proxy forwards one, and never both ways at once", () => {
    const problems = (input: object) => { const r = clientInputSchema.safeParse(input); return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`); };
    try {
      vi.stubEnv("GATEHOUSE_CLIENT_CERT_HEADER", undefined);
      expect(problems({ ...valid, certificateBound: true })).toEqual([expect.stringMatching(/^certificateBound: Certificate binding needs GATEHOUSE_CLIENT_CERT_HEADER/)]);
      vi.stubEnv("GATEHOUSE_CLIENT_CERT_HEADER", "x-client-cert");
      expect(problems({ ...valid, certificateBound: true })).toEqual([]);
      expect(problems({ ...valid, certificateBound: true, requireDpop: true })).toEqual(["certificateBound: Bind tokens with DPoP or with the client certificate, not both."]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("accept only https or loopback-IP redirect URIs without fragments", () => {
    expect(redirectUriProblem("https://app.example.test/cb")).toBeNull();
    expect(redirectUriProblem("http://127.0.0.1:8080/cb")).toBeNull();
    expect(redirectUriProblem("http://[::1]/cb")).toBeNull();
    expect(redirectUriProblem("http://app.example.test/cb")).toMatch(/https/);
    expect(redirectUriProblem("http://localhost/cb")).toMatch(/https/);
    expect(redirectUriProblem("https://app.example.test/cb#x")).toMatch(/fragment/);
    expect(redirectUriProblem("https://app.example.test/cb#")).toMatch(/fragment/);
    expect(redirectUriProblem("https://trusted.example.test@evil.example.test/cb")).toMatch(/user name or password/);
    expect(redirectUriProblem("not a url")).toMatch(/not a URL/);
    const parsed = clientInputSchema.safeParse({ ...valid, redirectUris: "http://evil.example.test/cb" });
    expect(parsed.success).toBe(false);
    expect(clientInputSchema.safeParse({ ...valid, type: "public", grantTypes: ["client_credentials"] }).success).toBe(false);
  });

  it("one bound to a client certificate is refused, not given bearer tokens, once no trusted proxy forwards certificates", async () => {
    const bound = async () => {
      vi.stubEnv("GATEHOUSE_CLIENT_CERT_HEADER", "x-client-cert");
      return (await createClient(clientInputSchema.parse({ ...valid, grantTypes: ["client_credentials"], redirectUris: "", certificateBound: true }), ctx)).clientId;
    };
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const kept = await bound();
      expect(await clientMetadata(kept)).toMatchObject({ tls_client_certificate_bound_access_tokens: true });
      const lost = await bound();
      vi.stubEnv("GATEHOUSE_CLIENT_CERT_HEADER", undefined);
      expect(await clientMetadata(lost)).toBeUndefined();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`client ${lost} requires certificate-bound tokens, but GATEHOUSE_CLIENT_CERT_HEADER is not set`));
      // Nor may a client register asking for it.
      expect(registrationProblem({ redirect_uris: ["https://rp.example.test/cb"], tls_client_certificate_bound_access_tokens: true })).toMatchObject({ field: "tls_client_certificate_bound_access_tokens" });
    } finally {
      warn.mockRestore();
      vi.unstubAllEnvs();
    }
  });

  it("a DPoP proof or client assertion (a replay record) is taken once, also by two requests at once", async () => {
    const replays = new PostgresAdapter("ReplayDetection");
    const attempts = await Promise.allSettled([1, 2].map(() => replays.upsert("jti-of-one-proof", { iat: 1 }, 60)));
    expect(attempts.map((a) => a.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((attempts.find((a) => a.status === "rejected") as PromiseRejectedResult).reason).toMatchObject({ error: "invalid_request", error_description: expect.stringContaining("replay detected") });
  });

  it("keep only a hash of the secret, split OpenID and API scopes, and vanish for the provider when disabled", async () => {
    const input = clientInputSchema.parse(valid);
    const { clientId, clientSecret } = await createClient(input, ctx);
    const row = await db().oAuthClient.findUniqueOrThrow({ where: { id: clientId } });
    expect(JSON.stringify(row)).not.toContain(clientSecret!);
    expect(secretMatches(row.secretHash!, clientSecret!)).toBe(true);
    expect(secretMatches(row.secretHash!, `${clientSecret}x`)).toBe(false);
    expect(await clientMetadata(clientId)).toMatchObject({ scope: "openid email", gatehouse_api_scopes: ["api:read"], client_secret: row.secretHash });
    // Its users' grants and tokens go with it, not only its new requests.
    const user = await makeUser();
    await db().oAuthConsent.create({ data: { userId: user.id, clientId, grantId: "grant-1", scopes: ["openid"] } });
    await db().oidcModel.create({ data: { kind: "RefreshToken", id: "rt-hash", grantId: "grant-1", payload: { accountId: user.id, clientId }, accountId: user.id, clientId } });
    expect(await setClientDisabled(clientId, true, ctx)).toBe("changed");
    expect(await clientMetadata(clientId)).toBeUndefined();
    expect(await db().oAuthConsent.count({ where: { clientId } })).toBe(0);
    expect(await db().oidcModel.count({ where: { clientId } })).toBe(0);
  });
});

describe("dynamic registration", () => {
  const base = { client_name: "Self-registered", redirect_uris: ["https://rp.example.test/cb"], grant_types: ["authorization_code"], response_types: ["code"] };
  const register = async (metadata: Record<string, unknown>) => {
    const { token } = await issueInitialAccessToken(ctx);
    const response = await fetch(`${provider.origin}/oidc/reg`, {
      method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ ...base, ...metadata }),
    });
    return { status: response.status, body: (await response.json()) as { error?: string; error_description?: string; client_id?: string } };
  };
  const machine = { grant_types: ["client_credentials"], response_types: [], redirect_uris: [] };
  const gatehouseApi = `${issuer()}/api/v1/authorize`;

  it("holds clients to the console's rules", async () => {
    expect(await register({ gatehouse_access_token_ttl: 3600 })).toMatchObject({ status: 201 });
    for (const refused of [
      { gatehouse_access_token_ttl: 365 * 86_400 },
      { gatehouse_refresh_token_ttl: 30 },
      // APIs are granted by an admin: a client naming its own would get tokens any API trusts.
      { gatehouse_resources: ["https://payroll.example.test"] },
      { gatehouse_api_scopes: ["payroll:admin"] },
      { ...machine, token_endpoint_auth_method: "none" },
      { grant_types: ["refresh_token"] },
      { backchannel_logout_uri: "http://rp.example.test/logout" },
    ]) {
      expect(await register(refused), JSON.stringify(refused)).toMatchObject({ status: 400, body: { error: "invalid_client_metadata" } });
    }
    // Nor may it aim Gatehouse's back-channel logout at a host only the operator's admins may use.
    process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS = "127.0.0.1";
    try {
      expect(await register({ backchannel_logout_uri: "http://127.0.0.1:9/logout" })).toMatchObject({ status: 400, body: { error: "invalid_client_metadata", error_description: expect.stringContaining("must be a public address") } });
    } finally {
      delete process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS;
    }
    expect(await register({ backchannel_logout_uri: "https://rp.example.test/logout" })).toMatchObject({ status: 201 });
    // Saying what is wrong with them, not the provider's generic "did not match".
    expect(await register({ redirect_uris: ["http://rp.example.test/cb"] })).toMatchObject({ status: 400, body: { error: "invalid_redirect_uri", error_description: expect.stringMatching(/^redirect_uris/) } });
    expect((await register({ redirect_uris: ["http://rp.example.test/cb"] })).body.error_description).not.toContain("did not match");
  });

  it("a registration's secret is shown once: reading the registration back gives neither it nor its stored hash", async () => {
    const { token } = await issueInitialAccessToken(ctx);
    const created = (await (await fetch(`${provider.origin}/oidc/reg`, {
      method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(base),
    })).json()) as { client_id: string; client_secret: string; registration_client_uri: string; registration_access_token: string };
    expect(created.client_secret).toEqual(expect.any(String));
    const read = await fetch(created.registration_client_uri, { headers: { authorization: `Bearer ${created.registration_access_token}` } });
    expect(read.status).toBe(200);
    const body = (await read.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ client_id: created.client_id, client_name: "Self-registered" });
    expect(body).not.toHaveProperty("client_secret");
    expect(JSON.stringify(body)).not.toContain((await db().oAuthClient.findUniqueOrThrow({ where: { id: created.client_id } })).secretHash!);
  });

  it("refuses metadata PostgreSQL cannot store (a NUL, a lone surrogate) with invalid_client_metadata, not a 500", async () => {
    expect(await register({ client_name: "a\u0000b" })).toMatchObject({ status: 400, body: { error: "invalid_client_metadata", error_description: expect.stringContaining("client_name") } });
    expect(await register({ client_name: "\ud800" })).toMatchObject({ status: 400, body: { error: "invalid_client_metadata" } });
    expect(await register({ contacts: ["ok@example.test", "x\u0000"] })).toMatchObject({ status: 400, body: { error: "invalid_client_metadata", error_description: expect.stringContaining("contacts") } });
    // Nested thousands of levels deep (it overflowed the stack of the check itself: a 500).
    const { token } = await issueInitialAccessToken(ctx);
    const deep = `{"client_name":${"[".repeat(10_000)}"x"${"]".repeat(10_000)},"redirect_uris":["https://rp.example.test/cb"]}`;
    const refused = await fetch(`${provider.origin}/oidc/reg`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: deep });
    expect({ status: refused.status, body: await refused.json() }).toMatchObject({ status: 400, body: { error: "invalid_client_metadata", error_description: "client_name: is nested more than 16 levels deep." } });
    expect(await db().oAuthClient.count({ where: { source: "registration" } })).toBe(0);
  });

  it("spends the initial access token: one token, one client, even from two registrations at once", async () => {
    const { token } = await issueInitialAccessToken(ctx);
    const once = (metadata: Record<string, unknown> = {}) => fetch(`${provider.origin}/oidc/reg`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ ...base, ...metadata }) });
    // A refused registration does not spend it.
    expect((await once({ redirect_uris: ["http://rp.example.test/cb"] })).status).toBe(400);
    const answers = await Promise.all([once(), once(), once()]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 401, 401]);
    expect((await once()).status).toBe(401);
    expect(await db().oAuthClient.count({ where: { source: "registration" } })).toBe(1);
  });

  it("refuses Gatehouse's own API audiences and scopes, which a console client may have", async () => {
    expect((await register({ ...machine, gatehouse_resources: [gatehouseApi], gatehouse_api_scopes: ["pdp"] })).body).toMatchObject({ error: "invalid_client_metadata" });
    expect((await register({ ...machine, gatehouse_resources: ["https://api.example.test"], gatehouse_api_scopes: ["pdp"] })).body).toMatchObject({ error: "invalid_client_metadata" });
    // Nor the users' Gatehouse roles: an admin trusts an app with those on the console.
    expect((await register({ ...base, scope: "openid roles" })).body).toMatchObject({ error: "invalid_client_metadata" });
    expect((await register({ ...base, scope: "openid groups" })).body).toMatchObject({ error: "invalid_client_metadata", error_description: expect.stringMatching(/groups scope is granted by an admin/) });
    expect((await register({ ...base, post_logout_redirect_uris: ["http://rp.example.test/bye"] })).body).toMatchObject({ error: "invalid_client_metadata" });
    expect(await db().oAuthClient.count({ where: { source: "registration" } })).toBe(0);

    const console = await createClient(clientInputSchema.parse({
      name: "Decision point caller", type: "confidential", grantTypes: ["client_credentials"], redirectUris: "", scopes: "pdp",
      resources: gatehouseApi, accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    const response = await fetch(`${provider.origin}/oidc/token`, {
      method: "POST", headers: { authorization: `Basic ${Buffer.from(`${console.clientId}:${console.clientSecret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", scope: "pdp", resource: gatehouseApi }),
    });
    expect(response.status).toBe(200);
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
      await db().oidcModel.create({ data: { kind: "Grant", id: grantId, payload: { accountId: user.id, clientId: clientId }, accountId: user.id, clientId } });
      await db().oidcModel.create({ data: { kind: "RefreshToken", id: `rt-${grantId}`, grantId, payload: { accountId: user.id, clientId: clientId }, accountId: user.id, clientId } });
      await recordConsent(user.id, clientId, grantId, ["openid", "email"], true);
    }
    expect((await listClientGrants(clientId)).map((g) => g.userId).sort()).toEqual([ana.id, bo.id].sort());

    expect(await revokeConnectedApp(ana.id, clientId, ctx)).toBe(true);
    expect((await listClientGrants(clientId)).map((g) => g.userId)).toEqual([bo.id]);
    expect((await db().oidcModel.findMany({ select: { id: true }, orderBy: { id: "asc" } })).map((m) => m.id)).toEqual(["grant-bo", "rt-grant-bo"]);
    expect(await revokeConnectedApp(ana.id, clientId, ctx)).toBe(false);
    expect(await db().auditEvent.count({ where: { action: "oauth.consent.revoke" } })).toBe(1);

    // A double click: both requests find the consent, one revokes it, the other finds it gone.
    expect((await Promise.all([revokeConnectedApp(bo.id, clientId, ctx), revokeConnectedApp(bo.id, clientId, ctx)])).sort()).toEqual([false, true]);
    expect(await db().oidcModel.count()).toBe(0);
    expect(await db().auditEvent.count({ where: { action: "oauth.consent.revoke" } })).toBe(2);
  });

  it("an app allowed for one sign-in only is listed too, and revoking it ends every grant of the pair", async () => {
    const { clientId } = await createClient(clientInputSchema.parse({
      name: "Once", type: "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: "https://once.example.test/cb",
      scopes: "openid offline_access", resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    const user = await makeUser();
    // Two sign-ins, each allowed "this time only": two grants, each with a refresh token.
    for (const grantId of ["grant-1", "grant-2"]) {
      await db().oidcModel.create({ data: { kind: "Grant", id: grantId, payload: { accountId: user.id, clientId }, accountId: user.id, clientId } });
      await db().oidcModel.create({ data: { kind: "RefreshToken", id: `rt-${grantId}`, grantId, payload: { accountId: user.id, clientId }, accountId: user.id, clientId } });
      await recordConsent(user.id, clientId, grantId, ["openid", "offline_access"], false);
    }
    expect(await rememberedGrantId(user.id, clientId)).toBeUndefined(); // the consent page is shown again next time
    expect((await listConnectedApps(user.id)).map((a) => a.clientId)).toEqual([clientId]);

    expect(await revokeConnectedApp(user.id, clientId, ctx)).toBe(true);
    expect(await db().oidcModel.count()).toBe(0);
    expect(await listConnectedApps(user.id)).toEqual([]);
  });
});

describe("a grant the provider revokes (its refresh token revoked or reused)", () => {
  it("leaves the app listed, and revocable, while another grant of the pair still works; with none left it goes", async () => {
    const { clientId } = await createClient(clientInputSchema.parse({
      name: "Two devices", type: "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: "https://two.example.test/cb",
      scopes: "openid offline_access", resources: "https://api.example.test", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    const user = await makeUser();
    const laptop = { accountId: user.id, clientId, iat: 1_000, openid: { scope: "openid offline_access" }, resources: { "https://api.example.test": "orders:read" } };
    await db().oidcModel.create({ data: { kind: "Grant", id: "grant-laptop", payload: laptop, accountId: user.id, clientId } });
    await db().oidcModel.create({ data: { kind: "Grant", id: "grant-phone", payload: { ...laptop, iat: 2_000, openid: { scope: "openid" } }, accountId: user.id, clientId } });
    await recordConsent(user.id, clientId, "grant-phone", ["openid"], false);

    // The phone app signs out: its grant is revoked and gone; the laptop's still works.
    await db().oidcModel.delete({ where: { kind_id: { kind: "Grant", id: "grant-phone" } } });
    await forgetConsentsForGrant("grant-phone");
    expect(await listConnectedApps(user.id)).toMatchObject([{ clientId, scopes: ["openid", "offline_access", "orders:read"], remembered: false }]);
    expect(await rememberedGrantId(user.id, clientId)).toBeUndefined();

    await db().oidcModel.delete({ where: { kind_id: { kind: "Grant", id: "grant-laptop" } } });
    await forgetConsentsForGrant("grant-laptop");
    expect(await listConnectedApps(user.id)).toEqual([]);
  });
});

describe("client ids that cannot exist", () => {
  const ids = ["a\0b", "x".repeat(201)];

  it("are unknown clients at the token endpoint (invalid_client) and at authorization (400), not a server error", async () => {
    for (const id of ids) {
      const token = await fetch(`${provider.origin}/oidc/token`, {
        method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "client_credentials", client_id: id, client_secret: "x" }),
      });
      expect(token.status).toBe(401);
      expect(await token.json()).toMatchObject({ error: "invalid_client" });
      const authorization = await fetch(`${provider.origin}/oidc/auth?${new URLSearchParams({ client_id: id, response_type: "code", scope: "openid" })}`, { redirect: "manual" });
      expect(authorization.status).toBe(400);
      expect(await authorization.text()).toContain("invalid_client");
    }
    expect(await clientMetadata("a\0b")).toBeUndefined();
  });

  it("a pushed request's id with a NUL is an unknown request_uri, not a server error", async () => {
    const { clientId } = await createClient(clientInputSchema.parse({
      name: "App", type: "public", grantTypes: ["authorization_code"], redirectUris: "https://app.example.test/cb", scopes: "openid",
      resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    const response = await fetch(`${provider.origin}/oidc/auth?${new URLSearchParams({ client_id: clientId, request_uri: "urn:ietf:params:oauth:request_uri:a\0b" })}`, { redirect: "manual" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("invalid_request_uri");
  });
});
