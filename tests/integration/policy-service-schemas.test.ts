import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { userContext, type AuditContext } from "@/lib/audit/context";
import { listActiveAdmins } from "@/lib/auth/users";
import {
  checkPolicies, DEFAULT_POLICIES, deleteSchemaAnswer, getSchemaAnswer, listSchemasAnswer, publishPolicies, putSchemaAnswer, registerServiceSchema, removeServiceSchema,
  rollbackPolicies, schemaInForce, simulate, simulationSchema,
} from "@/lib/policy";
import { checkServiceSchema } from "@/lib/policy/service-schemas";
import { decideForService, pdpBodySchema } from "@/lib/policy/service-api";
import { clientInputSchema, createClient } from "@/lib/oidc/clients";
import { issuer } from "@/lib/oidc/provider";
import { resetDatabase } from "../support/db";
import { ctx as systemCtx, makeUser } from "../support/factories";
import { providerForTests } from "../support/oidc";

const provider = providerForTests();
beforeEach(resetDatabase);

const DOCS = `namespace Docs {
  entity Folder;
  entity Document in [Folder] = { owner: Gatehouse::User, classification: String };
  action read, edit appliesTo { principal: [Gatehouse::User], resource: [Document, Folder], context: Gatehouse::RequestContext };
}`;
const OWNERS_READ = `\n@id("owners-read-documents")\npermit (principal, action == Docs::Action::"read", resource is Docs::Document)\nwhen { resource.owner == principal && context.risk.lessThan(decimal("0.7")) };\n`;

async function admin(): Promise<{ subject: { ip: string }; ctx: AuditContext }> {
  const user = await makeUser({ roles: ["admin"] });
  return { subject: { ip: "198.51.100.1" }, ctx: userContext(user, null) };
}

describe("a service's schema", () => {
  it("declares its one namespace, refers only to what exists, and its actions take Gatehouse's request context", () => {
    const docs = checkServiceSchema("Docs", DOCS, []);
    expect(docs).toMatchObject({ ok: true });
    if (!docs.ok) return;
    expect(docs.entityTypes.sort()).toEqual(["Docs::Document", "Docs::Folder"]);
    expect(docs.actions.sort()).toEqual(['Docs::Action::"edit"', 'Docs::Action::"read"']);

    const problems = (namespace: string, text: string, others: { namespace: string; text: string }[] = []) => {
      const check = checkServiceSchema(namespace, text, others);
      return check.ok ? [] : check.errors;
    };
    expect(problems("Docs", "namespace Wiki { entity Page; }").map((e) => e.message)).toEqual([
      "This schema declares namespace Wiki; it may declare only Docs.", "Declare the types and actions inside namespace Docs { … }.",
    ]);
    expect(problems("Docs", "entity Page;")[0]!.message).toMatch(/inside namespace Docs/);
    expect(problems("Docs", "namespace Docs {\n  entity Page;\n  action read appliesTo { principal: [Gatehouse::User], resource: [Page] };\n}")[0]!.message).toBe("Action \"read\" must take Gatehouse's request context.");
    // An unknown type is located on its line of the service's text, not of the combined schema.
    expect(problems("Docs", "namespace Docs {\n  entity Page;\n  entity Note = { author: Gatehouse::Person };\n}")[0]).toMatchObject({ line: 3 });
    expect(problems("Docs", "namespace Docs { entity A; }\nnamespace Gatehouse { entity Extra; }")[0]!.message).toMatch(/duplicate namespace id: `Gatehouse`/);
    // Within what the decision point and the simulator accept as names.
    expect(problems("Docs", `namespace Docs { entity ${"D".repeat(60)}; }`)[0]!.message).toMatch(/longer than 64 characters/);
    expect(problems("Docs", `namespace Docs { entity A; action "${"r".repeat(101)}" appliesTo { principal: [Gatehouse::User], resource: [A], context: Gatehouse::RequestContext }; }`)[0]!.message).toMatch(/at most 100 characters/);
    // Set<…> nested past what Cedar's stack holds safely: refused before Cedar reads it.
    expect(problems("Docs", `namespace Docs { entity A = { s: ${"Set<".repeat(40)}String${">".repeat(40)} }; }`)[0]!.message).toMatch(/nests too deeply/);
    // A service may refer to another's types, which are then declared.
    expect(checkServiceSchema("Wiki", "namespace Wiki { entity Page = { folder: Docs::Folder }; }", [{ namespace: "Docs", text: DOCS }])).toMatchObject({ ok: true, entityTypes: ["Wiki::Page"] });
    expect(checkServiceSchema("Wiki", "namespace Wiki { entity Page = { folder: Docs::Folder }; }", [])).toMatchObject({ ok: false });
  });

  it("a schema another service refers to can change but not lose what is referred to, nor be removed", async () => {
    const { ctx } = await admin();
    expect(await registerServiceSchema("Docs", DOCS, { clientId: "docs-service" }, ctx)).toMatchObject({ ok: true });
    expect(await registerServiceSchema("Wiki", "namespace Wiki { entity Page in [Docs::Folder]; }", { clientId: "wiki-service" }, ctx)).toMatchObject({ ok: true });
    // Its owner still changes it (a referring schema used to make every change of it look like a second namespace).
    expect(await registerServiceSchema("Docs", `${DOCS}\n// v2`, { clientId: "docs-service" }, ctx)).toMatchObject({ ok: true, created: false });
    expect(await registerServiceSchema("Docs", DOCS.replace("entity Folder;", "").replace(" in [Folder]", "").replace(", Folder]", "]"), { clientId: "docs-service" }, ctx)).toMatchObject({
      ok: false, reason: "invalid", errors: [{ help: "Another registered service's schema refers to Docs::Folder: change that schema first." }],
    });
    expect(await removeServiceSchema("Docs", { clientId: "docs-service" }, ctx)).toMatchObject({ ok: false, reason: "in_use", message: expect.stringContaining("another registered service's schema refers to Docs") });
    expect(await removeServiceSchema("Wiki", { clientId: "wiki-service" }, ctx)).toEqual({ ok: true });
    expect(await removeServiceSchema("Docs", { clientId: "docs-service" }, ctx)).toEqual({ ok: true });
  });

  it("lets policies name the service's types, the decision point decide on them, and refuses a change the policies in force would not survive", async () => {
    const { subject, ctx } = await admin();
    expect(checkPolicies(DEFAULT_POLICIES + OWNERS_READ, await schemaInForce()).ok).toBe(false);
    expect(await publishPolicies(DEFAULT_POLICIES + OWNERS_READ, "owners read", subject, listActiveAdmins, ctx)).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ message: expect.stringContaining("Docs::Document") })]) });

    expect(await registerServiceSchema("Docs", DOCS, { admin: true }, ctx)).toMatchObject({ ok: true, created: true, schema: { ownerClientId: null } });
    expect(checkPolicies(DEFAULT_POLICIES + OWNERS_READ, await schemaInForce())).toMatchObject({ ok: true, errors: [] });
    expect(await publishPolicies(DEFAULT_POLICIES + OWNERS_READ, "owners read", subject, listActiveAdmins, ctx)).toEqual({ ok: true, version: 1 });

    const ask = (owner: string, risk: number) => decideForService(pdpBodySchema.parse({
      principal: { type: "Gatehouse::User", id: "u-1" },
      action: { type: "Docs::Action", id: "read" },
      resource: { type: "Docs::Document", id: "d-1" },
      context: { risk },
      entities: [{ uid: { type: "Docs::Document", id: "d-1" }, attrs: { owner: { __entity: { type: "Gatehouse::User", id: owner } }, classification: "internal" } }],
    }), systemCtx);
    expect(await ask("u-1", 0.1)).toMatchObject({ decision: "allow", policies: ["owners-read-documents"] });
    expect(await ask("u-2", 0.1)).toMatchObject({ decision: "deny", policies: [] });
    expect(await ask("u-1", 0.8)).toMatchObject({ decision: "deny" });

    // The simulator offers the same question.
    const user = { userId: "u-1", email: "u1@example.test", roles: [], groups: [] };
    const request = simulationSchema.parse({
      principalType: "user", principal: "u1@example.test", action: 'Docs::Action::"read"', resourceType: "Docs::Document", resource: "d-1",
      resourceAttributes: '{"owner": {"__entity": {"type": "Gatehouse::User", "id": "u-1"}}, "classification": "internal"}',
      at: "2026-12-06T10:00", ip: "198.51.100.2", risk: "0.1", authStrength: "mfa",
    });
    expect(simulate(DEFAULT_POLICIES + OWNERS_READ, await schemaInForce(), request, user)).toMatchObject({ kind: "decision", decision: "allow", policies: ["owners-read-documents"] });
    expect(simulationSchema.safeParse({ ...request, resourceAttributes: "[1]" }).success).toBe(false);

    // Removing the types (or the action) a policy in force names is refused, naming the policy.
    expect(await removeServiceSchema("Docs", { admin: true }, ctx)).toMatchObject({ ok: false, reason: "breaks_policies", message: expect.stringContaining("owners-read-documents") });
    expect(await registerServiceSchema("Docs", DOCS.replace("read, edit", "edit"), { admin: true }, ctx)).toMatchObject({ ok: false, reason: "breaks_policies" });
    expect((await db().policyServiceSchema.findUniqueOrThrow({ where: { namespace: "Docs" } })).text).toBe(DOCS);

    expect(await rollbackPolicies(0, "built-in roles", subject, listActiveAdmins, ctx)).toMatchObject({ ok: true });
    expect(await removeServiceSchema("Docs", { admin: true }, ctx)).toEqual({ ok: true });
    expect(await removeServiceSchema("Docs", { admin: true }, ctx)).toMatchObject({ ok: false, reason: "not_found" });
    // An older version naming the removed types no longer validates: rolling back to it is refused.
    expect(await rollbackPolicies(1, "again", subject, listActiveAdmins, ctx)).toMatchObject({ ok: false, errors: expect.arrayContaining([expect.objectContaining({ policyId: "owners-read-documents" })]) });

    const events = await db().auditEvent.findMany({ where: { action: { startsWith: "policy.schema." } }, orderBy: { seq: "asc" }, select: { action: true, outcome: true, resourceId: true } });
    expect(events.map((e) => `${e.action} ${e.outcome}`)).toEqual([
      "policy.schema.register success", "policy.schema.remove blocked", "policy.schema.register blocked", "policy.schema.remove success", "policy.schema.remove failure",
    ]);
    expect(events.every((e) => e.resourceId === "Docs")).toBe(true);
  });
});

describe("/api/v1/policy-schemas", () => {
  const api = `${issuer()}/api/v1/authorize`;

  async function serviceToken(scopes: string): Promise<{ clientId: string; token: string }> {
    const client = await createClient(clientInputSchema.parse({
      name: "Docs service", type: "confidential", grantTypes: ["client_credentials"], redirectUris: "", scopes,
      resources: api, accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), systemCtx);
    const response = await fetch(`${provider.origin}/oidc/token`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", scope: scopes, resource: api }),
    });
    expect(response.status).toBe(200);
    return { clientId: client.clientId, token: ((await response.json()) as { access_token: string }).access_token };
  }

  const call = async (method: string, namespace: string | null, options: { token?: string; body?: string; type?: string } = {}) => {
    const headers: Record<string, string> = { ...(options.token && { authorization: `Bearer ${options.token}` }), ...(options.body !== undefined && { "content-type": options.type ?? "text/plain" }) };
    const request = new Request(`http://127.0.0.1/api/v1/policy-schemas${namespace ? `/${namespace}` : ""}`, { method, headers, body: options.body });
    const answer = { GET: getSchemaAnswer, PUT: putSchemaAnswer, DELETE: deleteSchemaAnswer }[method]!;
    const response = namespace === null ? await listSchemasAnswer(request) : await answer(request, namespace);
    return { status: response.status, headers: response.headers, body: response.status === 204 ? null : ((await response.json()) as Record<string, unknown>) };
  };

  it("lets a service register, replace and remove its own types, and no one else's", async () => {
    const docs = await serviceToken("pdp.schema");
    const other = await serviceToken("pdp.schema");
    const decisionsOnly = await serviceToken("pdp");

    expect(await call("PUT", "Docs", { body: DOCS })).toMatchObject({ status: 401, body: { error: "invalid_token" } });
    expect((await call("GET", null)).headers.get("www-authenticate")).toContain('scope="pdp.schema"');
    expect(await call("PUT", "Docs", { token: decisionsOnly.token, body: DOCS })).toMatchObject({ status: 403, body: { error: "insufficient_scope" } });
    expect(await call("PUT", "Docs", { token: "not.a.token", body: DOCS })).toMatchObject({ status: 401 });

    expect(await call("PUT", "Docs", { token: docs.token, body: DOCS })).toMatchObject({ status: 201, body: { namespace: "Docs", ownerClientId: docs.clientId, actions: expect.arrayContaining(['Docs::Action::"read"']) } });
    expect(await call("PUT", "Docs", { token: docs.token, body: `${DOCS}\n// v2` })).toMatchObject({ status: 200 });
    expect(await call("PUT", "Docs", { token: other.token, body: DOCS })).toMatchObject({ status: 403, body: { error: "not_owner" } });
    expect(await call("DELETE", "Docs", { token: other.token })).toMatchObject({ status: 403, body: { error: "not_owner" } });

    // Bad input: each a clear answer, nothing stored.
    expect(await call("PUT", "Docs", { token: docs.token, body: DOCS, type: "application/json" })).toMatchObject({ status: 415 });
    expect(await call("PUT", "Docs", { token: docs.token, body: "namespace Docs { entity Document = { owner: Nobody }; }" })).toMatchObject({ status: 400, body: { error: "invalid", errors: [{ line: 1 }] } });
    expect(await call("PUT", "Docs", { token: docs.token, body: `namespace Docs { entity A; }\n//${"x".repeat(20_000)}` })).toMatchObject({ status: 413 });
    expect(await call("PUT", "Docs", { token: docs.token, body: "   " })).toMatchObject({ status: 400 });
    expect(await call("PUT", "docs", { token: docs.token, body: DOCS })).toMatchObject({ status: 400, body: { error_description: expect.stringContaining("capital letter") } });
    expect(await call("PUT", "Gatehouse", { token: docs.token, body: DOCS })).toMatchObject({ status: 400 });
    expect(await call("PUT", "Docs", { token: docs.token, body: "x".repeat(90_000) })).toMatchObject({ status: 413 });
    // Cedar reads a NUL in a comment; PostgreSQL could not store it (a 500 before).
    expect(await call("PUT", "Docs", { token: docs.token, body: "namespace Docs { // a\u0000b\n entity Document; }" })).toMatchObject({ status: 400, body: { error_description: expect.stringContaining("NUL") } });
    expect((await db().policyServiceSchema.findUniqueOrThrow({ where: { namespace: "Docs" } })).text).toBe(`${DOCS}\n// v2`);

    expect(await call("GET", null, { token: other.token })).toMatchObject({ status: 200, body: { schemas: [{ namespace: "Docs", ownerClientId: docs.clientId }] } });
    // The scheme's name is case-insensitive (RFC 7235).
    for (const scheme of ["bearer", "BEARER"]) {
      const request = new Request("http://127.0.0.1/api/v1/policy-schemas", { headers: { authorization: `${scheme} ${other.token}` } });
      expect((await listSchemasAnswer(request)).status).toBe(200);
    }
    expect(await call("GET", "Docs", { token: docs.token })).toMatchObject({ status: 200, body: { schema: `${DOCS}\n// v2` } });
    expect(await call("DELETE", "Docs", { token: docs.token })).toMatchObject({ status: 204 });
    expect(await call("GET", "Docs", { token: docs.token })).toMatchObject({ status: 404 });
    expect(await call("DELETE", "Docs", { token: docs.token })).toMatchObject({ status: 404 });

    const registered = await db().auditEvent.findFirstOrThrow({ where: { action: "policy.schema.register", outcome: "success" } });
    expect({ type: registered.actorType, id: registered.actorId }).toEqual({ type: "client", id: docs.clientId });
  });
});
