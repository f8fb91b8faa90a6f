import "server-only";
import { z } from "zod";
import { BodyTooLargeError, readTextLimited } from "../http/body";
import { CLIENT_IP_HEADER } from "../http/client-ip";
import { problem } from "../http/problem";
import type { AuditContext } from "../audit/context";
import { serviceCaller } from "./service-token";
import {
  listServiceSchemas, registerServiceSchema, removeServiceSchema, serviceNamespace, serviceSchemaText, SERVICE_SCHEMA_MAX_CHARS, SERVICE_SCHEMA_SCOPE,
  type SchemaChangeRefusal, type ServiceSchemaView,
} from "./service-schemas";

// /api/v1/policy-schemas[/<namespace>]: a service reads the registered schemas and registers,
// replaces or removes its own (service-schemas.ts). Bearer access token from Gatehouse's own
// provider for the decision point's resource, with the `pdp.schema` scope, the service's own
// (client credentials).

type Caller = { clientId: string; ctx: AuditContext };

async function caller(request: Request): Promise<Caller | Response> {
  const verified = await serviceCaller(request.headers.get("authorization"), SERVICE_SCHEMA_SCOPE);
  if ("error" in verified) return problem(verified.status, verified.error, verified.description, verified.headers);
  const ctx: AuditContext = {
    actor: { type: "client", id: verified.clientId, label: verified.clientId },
    client: { ip: request.headers.get(CLIENT_IP_HEADER), userAgent: request.headers.get("user-agent")?.slice(0, 512) ?? null },
  };
  return { clientId: verified.clientId, ctx };
}

const view = (schema: ServiceSchemaView) => ({
  namespace: schema.namespace, schema: schema.text, entityTypes: schema.entityTypes, actions: schema.actions,
  ownerClientId: schema.ownerClientId, updatedAt: schema.updatedAt.toISOString(),
});

const STATUS: Record<SchemaChangeRefusal["reason"], number> = { invalid: 400, not_owner: 403, not_found: 404, breaks_policies: 409, in_use: 409, too_many: 409 };

const refusal = (refused: SchemaChangeRefusal) =>
  Response.json({ error: refused.reason, error_description: refused.message, ...(refused.errors && { errors: refused.errors }) }, { status: STATUS[refused.reason] });

/** GET /api/v1/policy-schemas: every registered service schema. */
export async function listSchemasAnswer(request: Request): Promise<Response> {
  const who = await caller(request);
  if (who instanceof Response) return who;
  return Response.json({ schemas: (await listServiceSchemas()).map(view) }, { headers: { "cache-control": "no-store" } });
}

/** The caller and the namespace in the path, or the answer refusing them. */
async function callerFor(request: Request, rawNamespace: string): Promise<(Caller & { namespace: string }) | Response> {
  const who = await caller(request);
  if (who instanceof Response) return who;
  const namespace = serviceNamespace.safeParse(rawNamespace);
  if (!namespace.success) return problem(400, "invalid_request", z.prettifyError(namespace.error));
  return { ...who, namespace: namespace.data };
}

/** GET /api/v1/policy-schemas/<namespace>. */
export async function getSchemaAnswer(request: Request, rawNamespace: string): Promise<Response> {
  const who = await callerFor(request, rawNamespace);
  if (who instanceof Response) return who;
  const found = (await listServiceSchemas()).find((s) => s.namespace === who.namespace);
  return found ? Response.json(view(found), { headers: { "cache-control": "no-store" } }) : problem(404, "not_found", `No service has registered the namespace ${who.namespace}.`);
}

/** PUT /api/v1/policy-schemas/<namespace>, the schema as text/plain: registers or replaces the caller's. */
export async function putSchemaAnswer(request: Request, rawNamespace: string): Promise<Response> {
  const who = await callerFor(request, rawNamespace);
  if (who instanceof Response) return who;
  if (request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() !== "text/plain") return problem(415, "invalid_request", "Send the schema as text/plain (Cedar's schema syntax).");
  let body: string;
  try {
    // Characters, at most four bytes each.
    body = await readTextLimited(request, SERVICE_SCHEMA_MAX_CHARS * 4);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return problem(413, "request_too_large", `A schema is limited to ${SERVICE_SCHEMA_MAX_CHARS.toLocaleString("en")} characters.`);
    throw error;
  }
  const text = serviceSchemaText.safeParse(body);
  if (!text.success) return problem(text.error.issues.some((i) => i.code === "too_big") ? 413 : 400, "invalid_request", z.prettifyError(text.error));
  const result = await registerServiceSchema(who.namespace, text.data, { clientId: who.clientId }, who.ctx);
  return result.ok ? Response.json(view(result.schema), { status: result.created ? 201 : 200 }) : refusal(result);
}

/** DELETE /api/v1/policy-schemas/<namespace>: removes the caller's. */
export async function deleteSchemaAnswer(request: Request, rawNamespace: string): Promise<Response> {
  const who = await callerFor(request, rawNamespace);
  if (who instanceof Response) return who;
  const result = await removeServiceSchema(who.namespace, { clientId: who.clientId }, who.ctx);
  return result.ok ? new Response(null, { status: 204 }) : refusal(result);
}
