import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db, pgPool } from "@/lib/db/client";
import { storedTokenId } from "@/lib/oidc/adapter";
import { clientInputSchema, createClient } from "@/lib/oidc/clients";
import { getProvider } from "@/lib/oidc/provider";
import { verifyAccessToken } from "@/lib/oidc/access-tokens";
import { rememberSessionSignIn, sweepSessionSignIns } from "@/lib/oidc/session-sign-ins";
import { DEFAULT_POLICIES, publishPolicies } from "@/lib/policy";
import { listActiveAdmins } from "@/lib/auth/users";
import { endSession } from "@/lib/auth/sessions";
import { userContext } from "@/lib/audit/context";
import { auditFiltersSchema, searchAuditEvents } from "@/lib/audit";
import { clientScopesUsedSince } from "@/lib/oidc/consents";
import { resetDatabase } from "../support/db";
import { ctx, makeUser } from "../support/factories";

// The provider's own HTTP answers, in-process: the audit events its requests cause are written
// before the answer leaves, so a client holding a token can already find the event; the tokens
// are signed with the provider's keys.

let server: Server;
let origin: string;

beforeAll(async () => {
  await resetDatabase();
  const handle = (await getProvider()).callback();
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the provider's events", () => {
  it("are in the audit trail when the token response arrives, and a failed grant is too", async () => {
    const resource = "https://api.example.test";
    const machine = await createClient(clientInputSchema.parse({
      name: "Events machine", type: "confidential", grantTypes: ["client_credentials"], redirectUris: "", scopes: "api:read",
      resources: resource, accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    const grant = (secret: string) => fetch(`${origin}/oidc/token`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${machine.clientId}:${secret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", scope: "api:read", resource }),
    });
    const issued = () => db().auditEvent.count({ where: { action: "oauth.token.issue", outcome: "success", resourceId: machine.clientId } });

    for (let i = 1; i <= 5; i++) {
      const response = await grant(machine.clientSecret!);
      expect(response.status).toBe(200);
      expect(await issued()).toBe(i);
      // The JWT access token is signed by the provider's key (lib/oidc/signing-key.ts) and verifies.
      const { access_token } = (await response.json()) as { access_token: string };
      expect(await verifyAccessToken(access_token, resource, "api:read")).toMatchObject({ clientId: machine.clientId });
    }
    const refused = await grant("not the secret");
    expect(refused.status).toBe(401);
    expect(await db().auditEvent.count({ where: { action: "oauth.token.issue", outcome: "failure", resourceId: machine.clientId } })).toBe(1);
    // The console's actor filter finds the client by its id (mixed case, not an email or a user id).
    const byActor = await searchAuditEvents(auditFiltersSchema.parse({ actor: machine.clientId }));
    expect(byActor.events.filter((e) => e.action === "oauth.token.issue" && e.outcome === "success")).toHaveLength(5);
    // The scope issued is recorded, so the review of unused scopes sees this client use its own.
    expect((await clientScopesUsedSince(new Date(Date.now() - 60_000))).get(machine.clientId)).toEqual(new Set(["api:read"]));
  });
});

describe("the token endpoint asks the access policies", () => {
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
  const form = { "content-type": "application/x-www-form-urlencoded" };

  /** Publishes the built-in policies plus `extra`, as an admin would. */
  async function publish(extra: string) {
    const admin = await makeUser({ roles: ["admin"] });
    const publisher = { userId: admin.id, email: admin.email, roles: admin.roles, ip: null, risk: 0, authStrength: "mfa" as const, mfaFresh: true, deviceTrusted: false };
    const result = await publishPolicies(`${DEFAULT_POLICIES}\n${extra}`, "token endpoint test", publisher, listActiveAdmins, userContext(admin, null));
    expect(result.ok).toBe(true);
  }

  /** A user's grant to a web app with a refresh token, as the code flow leaves it. */
  async function grantFor(clientId: string, userId: string): Promise<string> {
    const provider = await getProvider();
    const grant = new provider.Grant({ accountId: userId, clientId });
    grant.addOIDCScope("openid offline_access");
    return grant.save();
  }
  /** A refresh token on this grant, issued in the provider session `sessionUid` (one browser's single sign-on). */
  async function refreshTokenOn(grantId: string, clientId: string, userId: string, sessionUid?: string): Promise<string> {
    const provider = await getProvider();
    const client = (await provider.Client.find(clientId))!;
    return new provider.RefreshToken({ accountId: userId, client, grantId, sessionUid, scope: "openid offline_access", amr: ["pwd", "otp", "mfa"], gty: "authorization_code", authTime: Math.floor(Date.now() / 1000) }).save();
  }
  const refreshTokenFor = async (clientId: string, userId: string) => refreshTokenOn(await grantFor(clientId, userId), clientId, userId);

  async function webApp() {
    const web = await createClient(clientInputSchema.parse({
      name: "Policy web app", type: "confidential", grantTypes: ["authorization_code", "refresh_token"], redirectUris: "https://app.example.test/cb",
      scopes: "openid\noffline_access", resources: "", accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    const refresh = (token: string) => fetch(`${origin}/oidc/token`, {
      method: "POST", headers: { authorization: basic(web.clientId, web.clientSecret!), ...form },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: token }),
    });
    return { clientId: web.clientId, clientSecret: web.clientSecret!, refresh };
  }

  it("on every refresh: a refused client gets invalid_grant, its refresh token is not spent, and the refusal is audited", async () => {
    await resetDatabase();
    const user = await makeUser();
    const web = await webApp();
    const { refresh } = web;
    const token = await refreshTokenFor(web.clientId, user.id);

    await publish(`@id("no-tokens-for-web")\nforbid (principal, action == Gatehouse::Action::"issueToken", resource == Gatehouse::Client::"${web.clientId}");`);
    const refused = await refresh(token);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "invalid_grant", error_description: "the access policies do not allow this client tokens now" });
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "oauth.token.issue", outcome: "blocked", resourceId: web.clientId } });
    expect(event.policyDecisions).toEqual([expect.objectContaining({ action: "issueToken", decision: "deny", policies: ["no-tokens-for-web"], accountId: user.id })]);

    // The policy is lifted: the same refresh token works (it was not spent by the refusal) and rotates.
    await publish("");
    const allowed = await refresh(token);
    expect(allowed.status).toBe(200);
    const tokens = (await allowed.json()) as { refresh_token: string; access_token: string };
    expect(tokens).toMatchObject({ refresh_token: expect.any(String), access_token: expect.any(String) });

    // At rest, tokens are kept only as hashes: the database holds none of the values a client holds…
    for (const value of [token, tokens.refresh_token, tokens.access_token]) {
      const rows = await pgPool().query("SELECT count(*)::int AS n FROM oidc_models WHERE id = $1 OR payload::text LIKE '%' || $1 || '%'", [value]);
      expect(rows.rows[0].n, "a token stored in the clear").toBe(0);
      expect(await db().oidcModel.count({ where: { id: storedTokenId(value) } })).toBe(1);
    }
    // …and the provider still finds them by value: the new access token introspects as active, the new refresh token works.
    const introspection = await fetch(`${origin}/oidc/token/introspection`, {
      method: "POST", headers: { authorization: basic(web.clientId, web.clientSecret), ...form }, body: new URLSearchParams({ token: tokens.access_token }),
    });
    expect(await introspection.json()).toMatchObject({ active: true, client_id: web.clientId, sub: user.id });
    expect((await refresh(tokens.refresh_token)).status).toBe(200);

    // A spent refresh token coming back is theft, refused or not: the grant is revoked and the
    // reuse is audited, even while the policies refuse the client (their refusal must not hide it).
    await publish(`@id("no-tokens-for-web")\nforbid (principal, action == Gatehouse::Action::"issueToken", resource == Gatehouse::Client::"${web.clientId}");`);
    expect(await refresh(token).then((r) => r.json())).toMatchObject({ error: "invalid_grant" });
    expect(await db().auditEvent.count({ where: { action: "oauth.refresh_token.reuse", resourceId: web.clientId } })).toBe(1);
    expect(await db().oidcModel.count({ where: { kind: { in: ["Grant", "RefreshToken"] } } })).toBe(0);
  });

  it("judges a refresh by the sign-in of the browser it was issued in: its risk score, and whether its device is still trusted", async () => {
    await resetDatabase();
    const user = await makeUser();
    const { clientId, refresh } = await webApp();
    const device = await db().device.create({ data: { userId: user.id, tokenHash: "device-token-hash", label: "Laptop", trustedUntil: new Date(Date.now() + 86_400_000) } });
    const signIn = (riskScore: number) => db().session.create({ data: { userId: user.id, expiresAt: new Date(Date.now() + 3_600_000), riskScore, deviceId: device.id } });
    const { encode } = await import("next-auth/jwt");
    const cookieOf = async (sessionId: string) => {
      const value = await encode({ token: { sid: sessionId, uid: user.id }, secret: process.env.AUTH_SECRET!, salt: "authjs.session-token" });
      return (name: string) => (name === "authjs.session-token" ? value : undefined);
    };
    // One grant (the app was let in with a remembered consent), used from three browsers, each
    // with its own provider session; after each authorization, the browser's portal session
    // becomes that provider session's sign-in.
    const grantId = await grantFor(clientId, user.id);
    const inBrowser = async (riskScore: number, accountId = user.id) => {
      const uid = randomUUID();
      await rememberSessionSignIn({ uid, accountId }, await cookieOf((await signIn(riskScore)).id));
      return refreshTokenOn(grantId, clientId, user.id, uid);
    };
    const calm = await inBrowser(0.2);
    const risky = await inBrowser(0.9);
    // A provider session of another account does not take this user's portal sign-in.
    const unknown = await inBrowser(0.1, randomUUID());

    await publish([
      `@id("no-refresh-after-risky-sign-in")\nforbid (principal, action == Gatehouse::Action::"issueToken", resource) when { context.via == "refresh" && context.risk.greaterThanOrEqual(decimal("0.7")) };`,
      `@id("refresh-needs-trusted-device")\nforbid (principal, action == Gatehouse::Action::"issueToken", resource) when { context.via == "refresh" && !context.deviceTrusted };`,
    ].join("\n"));
    const deniedBy = async (response: Response) => {
      expect(response.status).toBe(400);
      const event = await db().auditEvent.findFirstOrThrow({ where: { action: "oauth.token.issue", outcome: "blocked" }, orderBy: { seq: "desc" } });
      return (event.policyDecisions as { policies: string[] }[])[0]!.policies;
    };

    const calmTokens = (await (await refresh(calm)).json()) as { refresh_token?: string };
    expect(calmTokens.refresh_token).toEqual(expect.any(String));
    expect(await deniedBy(await refresh(risky))).toEqual(["no-refresh-after-risky-sign-in"]);
    expect(await deniedBy(await refresh(unknown))).toEqual(["refresh-needs-trusted-device"]);
    // The calm browser using the same grant again lends the risky browser's tokens nothing.
    await inBrowser(0.05);
    expect(await deniedBy(await refresh(risky))).toEqual(["no-refresh-after-risky-sign-in"]);
    // The user stops trusting the device: the app it let in can no longer refresh either.
    await db().device.update({ where: { id: device.id }, data: { trustedUntil: null } });
    expect(await deniedBy(await refresh(calmTokens.refresh_token!))).toEqual(["refresh-needs-trusted-device"]);

    // The sweep forgets only sign-ins that no provider session, code or refresh token refers to.
    const orphan = await db().oAuthSessionSignIn.create({ data: { providerSessionUid: randomUUID(), sessionId: (await signIn(0)).id } });
    await db().oAuthSessionSignIn.updateMany({ data: { updatedAt: new Date(Date.now() - 2 * 3_600_000) } });
    await sweepSessionSignIns();
    const kept = await db().oAuthSessionSignIn.findMany({ select: { providerSessionUid: true } });
    expect(kept).toHaveLength(3);
    expect(kept.map((row) => row.providerSessionUid)).not.toContain(orphan.providerSessionUid);
  });

  it("refuses the refresh tokens of a browser whose sign-in was revoked or reported, not of one signed out", async () => {
    await resetDatabase();
    const user = await makeUser();
    const { clientId, clientSecret, refresh } = await webApp();
    const { encode } = await import("next-auth/jwt");
    const grantId = await grantFor(clientId, user.id);
    const inBrowser = async () => {
      const session = await db().session.create({ data: { userId: user.id, expiresAt: new Date(Date.now() + 3_600_000) } });
      const cookie = await encode({ token: { sid: session.id, uid: user.id }, secret: process.env.AUTH_SECRET!, salt: "authjs.session-token" });
      const uid = randomUUID();
      await rememberSessionSignIn({ uid, accountId: user.id }, (name) => (name === "authjs.session-token" ? cookie : undefined));
      return { sessionId: session.id, token: await refreshTokenOn(grantId, clientId, user.id, uid) };
    };
    const [reported, signedOut] = [await inBrowser(), await inBrowser()];

    // The access tokens already issued in those browsers, and what introspection says of both kinds.
    const provider = await getProvider();
    const client = (await provider.Client.find(clientId))!;
    const accessTokenIn = (sessionUid: string) => new provider.AccessToken({ accountId: user.id, client, grantId, sessionUid, scope: "openid", gty: "authorization_code" }).save();
    const sessionOf = async (token: string) => (await provider.RefreshToken.find(token))!.sessionUid!;
    const [reportedAccess, signedOutAccess] = [await accessTokenIn(await sessionOf(reported.token)), await accessTokenIn(await sessionOf(signedOut.token))];
    const userinfo = (token: string) => fetch(`${origin}/oidc/me`, { headers: { authorization: `Bearer ${token}` } });
    const introspect = async (token: string) => ((await (await fetch(`${origin}/oidc/token/introspection`, {
      method: "POST", headers: { authorization: basic(clientId, clientSecret), ...form }, body: new URLSearchParams({ token }),
    })).json()) as { active: boolean }).active;
    expect(await introspect(reported.token)).toBe(true);

    await endSession(user.id, reported.sessionId, "reported_by_user", ctx); // "This wasn't me"
    await endSession(user.id, signedOut.sessionId, "sign_out", ctx);

    const refused = await refresh(reported.token);
    expect([refused.status, ((await refused.json()) as { error: string }).error]).toEqual([400, "invalid_grant"]);
    expect(await db().auditEvent.findFirst({ where: { action: "oauth.token.issue", outcome: "failure" }, orderBy: { seq: "desc" } })).toMatchObject({ metadata: expect.objectContaining({ detail: "the sign-in this token was issued in has been revoked" }) });
    // What the revoked sign-in's browser was given stops too: an offline grant's access token outlives its provider session.
    expect((await userinfo(reportedAccess)).status).toBe(401);
    expect([await introspect(reportedAccess), await introspect(reported.token)]).toEqual([false, false]);
    // Signing out ends nothing an app holds.
    expect((await userinfo(signedOutAccess)).status).toBe(200);
    expect([await introspect(signedOutAccess), await introspect(signedOut.token)]).toEqual([true, true]);
    expect((await refresh(signedOut.token)).status).toBe(200);
    // The sign-in is remembered as long as an access token of that browser is: the hourly sweep
    // must not make the revoked one's token good again once its refresh tokens are gone.
    await db().oidcModel.deleteMany({ where: { kind: "RefreshToken" } });
    await db().oAuthSessionSignIn.updateMany({ data: { updatedAt: new Date(Date.now() - 2 * 3_600_000) } });
    await sweepSessionSignIns();
    expect((await userinfo(reportedAccess)).status).toBe(401);
  });

  it("for client credentials: a refused machine client gets unauthorized_client", async () => {
    await resetDatabase();
    const resource = "https://reports.example.test";
    const machine = await createClient(clientInputSchema.parse({
      name: "Policy machine", type: "confidential", grantTypes: ["client_credentials"], redirectUris: "", scopes: "reports:read",
      resources: resource, accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    const grant = () => fetch(`${origin}/oidc/token`, {
      method: "POST", headers: { authorization: basic(machine.clientId, machine.clientSecret!), ...form, "x-gatehouse-client-ip": "203.0.113.40" },
      body: new URLSearchParams({ grant_type: "client_credentials", scope: "reports:read", resource }),
    });
    expect((await grant()).status).toBe(200);

    await publish(`@id("no-machines-from-documentation-net")\nforbid (principal is Gatehouse::Client, action == Gatehouse::Action::"issueToken", resource) when { context.ip.isInRange(ip("203.0.113.0/24")) };`);
    const refused = await grant();
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toBe("unauthorized_client");
    expect(await db().auditEvent.count({ where: { action: "oauth.token.issue", outcome: "blocked", resourceId: machine.clientId } })).toBe(1);
  });
});
