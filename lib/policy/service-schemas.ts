import "server-only";
import { createTwoFilesPatch } from "diff";
import { z } from "zod";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { readSchema, type CedarProblem, type SchemaJson } from "./cedar";
import { CEDAR_SCHEMA } from "./schema";
import { ADMIN_ACCESS_TRANSACTION, checkPolicies, joinSchemas, newestPolicy, takeAdminAccessLock } from "./store";
import { ACTION_ID, MAX_TYPE_NAME, NAMESPACE } from "./names";

// Other services' resource types and actions. A service (through /api/v1/policy-schemas, with the
// `pdp.schema` scope) or an admin (on /admin/policies) registers a Cedar schema in the service's
// own namespace, beside Gatehouse's; policies may then name its types and actions, validated as
// strictly as Gatehouse's own, and the decision point answers requests about them. The schemas
// only shape validation: a decision never reads them, so a change takes effect at the next
// validation or publish. A change that would leave the policies in force invalid is refused.

export const SERVICE_SCHEMA_SCOPE = "pdp.schema";
export const SERVICE_SCHEMA_MAX_CHARS = 20_000;
const MAX_SERVICE_SCHEMAS = 50;

export const serviceNamespace = z
  .string()
  .regex(NAMESPACE, "A namespace is one word of at most 40 letters, digits and underscores, starting with a capital letter (e.g. Docs).")
  .refine((name) => name !== "Gatehouse", "The Gatehouse namespace is Gatehouse's own.");

export const serviceSchemaText = z
  .string()
  .max(SERVICE_SCHEMA_MAX_CHARS, `A service's schema is limited to ${SERVICE_SCHEMA_MAX_CHARS.toLocaleString("en")} characters.`)
  .refine((text) => text.trim().length > 0, "The schema is empty.")
  // Cedar reads a NUL in a comment or a quoted name, PostgreSQL cannot store one in text.
  .refine((text) => !text.includes("\u0000"), "Remove the NUL character from the schema.");

// What every action of a service takes as its context: the decision point fills it for every request.
const REQUEST_CONTEXT = "Gatehouse::RequestContext";

export type ServiceSchemaView = {
  namespace: string;
  text: string;
  ownerClientId: string | null;
  updatedAt: Date;
  /** Qualified: Docs::Document. */
  entityTypes: string[];
  /** As policies name them: Docs::Action::"read". */
  actions: string[];
};

type Declared = Pick<ServiceSchemaView, "entityTypes" | "actions">;

/** What `json` declares in `namespace`, qualified as policies name it. */
function declared(json: SchemaJson, namespace: string): Declared {
  const space = json[namespace];
  return {
    entityTypes: Object.keys(space?.entityTypes ?? {}).map((name) => `${namespace}::${name}`),
    actions: Object.keys(space?.actions ?? {}).map((name) => `${namespace}::Action::${JSON.stringify(name)}`),
  };
}

const problem = (message: string, help: string | null = null): CedarProblem => ({ policyId: null, message, help, line: null, column: null });

/** Gatehouse's schema with the registered services' `fragments`, read as one. */
const readRegistered = (fragments: readonly string[]) => readSchema(CEDAR_SCHEMA, fragments.join("\n"));

/** A registered service's schema: its namespace and text. */
type Registered = { namespace: string; text: string };

/**
 * Whether `text` is a schema `namespace` may register beside `others` (the other services'):
 * it parses, refers only to what is declared (Gatehouse's types too), declares exactly the one
 * namespace, names what the decision point can be asked about, and every action it declares for
 * requests takes Gatehouse's request context.
 */
export function checkServiceSchema(namespace: string, text: string, others: readonly Registered[]): ({ ok: true } & Declared) | { ok: false; errors: CedarProblem[] } {
  const read = readSchema(joinSchemas(others.map((o) => o.text)), text);
  if (!read.ok) return { ok: false, errors: read.errors.map((e) => usedElsewhere(e, namespace, text)) };
  const before = new Set(["Gatehouse", ...others.map((o) => o.namespace)]);
  const added = Object.keys(read.json).filter((name) => !before.has(name));
  const errors: CedarProblem[] = [];
  for (const name of added) {
    if (name !== namespace) errors.push(problem(name === "" ? `Everything must be declared inside namespace ${namespace} { … }.` : `This schema declares namespace ${name}; it may declare only ${namespace}.`));
  }
  if (!added.includes(namespace)) errors.push(problem(`Declare the types and actions inside namespace ${namespace} { … }.`));
  const { entityTypes, actions } = declared(read.json, namespace);
  for (const type of entityTypes.filter((t) => t.length > MAX_TYPE_NAME)) errors.push(problem(`${type} is longer than ${MAX_TYPE_NAME} characters, which the decision point accepts for a type.`));
  for (const [action, definition] of Object.entries(read.json[namespace]?.actions ?? {})) {
    if (!ACTION_ID.test(action)) errors.push(problem(`Action "${action.slice(0, 40)}…": an action's name is at most 100 characters, without " or \\.`));
    const context = definition.appliesTo?.context as { type?: string; name?: string } | undefined;
    if (definition.appliesTo && (context?.name ?? context?.type) !== REQUEST_CONTEXT) {
      errors.push(problem(`Action "${action}" must take Gatehouse's request context.`, `Write "context: ${REQUEST_CONTEXT}" in its appliesTo: the decision point fills in the time, address, risk and sign-in strength for every request.`));
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, entityTypes, actions };
}

/** A type of `namespace` that does not resolve while `text` declares none by that name: another service's schema refers to it. */
function usedElsewhere(error: CedarProblem, namespace: string, text: string): CedarProblem {
  const unresolved = /failed to resolve types?: (.+)$/.exec(error.message)?.[1]?.split(", ") ?? [];
  const gone = unresolved.find((name) => name.startsWith(`${namespace}::`) && !text.includes(name.slice(namespace.length + 2)));
  return gone ? { ...error, help: `Another registered service's schema refers to ${gone}: change that schema first.` } : error;
}

/** Every registered service schema, by namespace, with what it declares. */
export async function listServiceSchemas(): Promise<ServiceSchemaView[]> {
  const rows = await db().policyServiceSchema.findMany({ orderBy: { namespace: "asc" } });
  if (rows.length === 0) return [];
  const read = readRegistered(rows.map((row) => row.text));
  const json = read.ok ? read.json : {};
  return rows.map((row) => ({ namespace: row.namespace, text: row.text, ownerClientId: row.ownerClientId, updatedAt: row.updatedAt, ...declared(json, row.namespace) }));
}

/** Who changes a service's schema: the service itself (an OAuth client, through the API) or an admin on the console. */
export type SchemaRegistrant = { clientId: string } | { admin: true };

export type SchemaChangeRefusal = { ok: false; reason: "invalid" | "breaks_policies" | "in_use" | "not_owner" | "not_found" | "too_many"; message: string; errors?: CedarProblem[] };
export type SchemaChangeResult = { ok: true; created: boolean; schema: ServiceSchemaView } | SchemaChangeRefusal;

/**
 * Registers (or replaces) `namespace`'s schema. Under the lock publishes take, so the policies in
 * force are checked against exactly what will be stored: a change they would no longer validate
 * against (a type or action removed that a policy names) is refused, naming the policies.
 */
export async function registerServiceSchema(namespace: string, text: string, by: SchemaRegistrant, ctx: AuditContext): Promise<SchemaChangeResult> {
  type Registered = { refusal: null; created: boolean; before: string; row: { ownerClientId: string | null; updatedAt: Date }; declares: Declared };
  const outcome = await db().$transaction(async (tx): Promise<Registered | { refusal: SchemaChangeRefusal }> => {
    await takeAdminAccessLock(tx);
    const rows = await tx.policyServiceSchema.findMany({ orderBy: { namespace: "asc" } });
    const current = rows.find((row) => row.namespace === namespace) ?? null;
    const refusal = ownershipRefusal(current, by, namespace);
    if (refusal) return { refusal };
    if (!current && rows.length >= MAX_SERVICE_SCHEMAS) return { refusal: refuse("too_many", `At most ${MAX_SERVICE_SCHEMAS} services may register schemas; remove one no longer used first.`) };
    const others = rows.filter((row) => row.namespace !== namespace);
    const check = checkServiceSchema(namespace, text, others);
    if (!check.ok) return { refusal: refuse("invalid", `The schema for ${namespace} is not valid; nothing was registered.`, check.errors) };
    const broken = await policiesBrokenBy([...others.map((row) => row.text), text], tx);
    if (broken) return { refusal: broken };
    const ownerClientId = current ? current.ownerClientId : "clientId" in by ? by.clientId : null;
    const row = await tx.policyServiceSchema.upsert({ where: { namespace }, create: { namespace, text, ownerClientId }, update: { text } });
    return { refusal: null, created: !current, before: current?.text ?? "", row, declares: { entityTypes: check.entityTypes, actions: check.actions } };
  }, ADMIN_ACCESS_TRANSACTION);
  const action = "policy.schema.register";
  if (outcome.refusal) {
    await auditRefusal(ctx, action, namespace, outcome.refusal);
    return outcome.refusal;
  }
  const { created, before, row, declares } = outcome;
  await audit(ctx, {
    type: "policy", action, outcome: "success", resource: { type: "policy_schema", id: namespace },
    metadata: { created, ownerClientId: row.ownerClientId, ...declares, diff: schemaDiff(namespace, before, text) },
  });
  return { ok: true, created, schema: { namespace, text, ownerClientId: row.ownerClientId, updatedAt: row.updatedAt, ...declares } };
}

/** Removes `namespace`'s schema, unless a policy in force names what it declares. */
export async function removeServiceSchema(namespace: string, by: SchemaRegistrant, ctx: AuditContext): Promise<{ ok: true } | SchemaChangeRefusal> {
  const outcome = await db().$transaction(async (tx): Promise<{ refusal: null; removed: { text: string; ownerClientId: string | null } } | { refusal: SchemaChangeRefusal }> => {
    await takeAdminAccessLock(tx);
    const rows = await tx.policyServiceSchema.findMany({ orderBy: { namespace: "asc" } });
    const current = rows.find((row) => row.namespace === namespace) ?? null;
    if (!current) return { refusal: refuse("not_found", `No service has registered the namespace ${namespace}.`) };
    const remaining = rows.filter((row) => row !== current).map((row) => row.text);
    const refusal = ownershipRefusal(current, by, namespace) ?? stillReferred(remaining, namespace) ?? (await policiesBrokenBy(remaining, tx));
    if (refusal) return { refusal };
    await tx.policyServiceSchema.delete({ where: { namespace } });
    return { refusal: null, removed: current };
  }, ADMIN_ACCESS_TRANSACTION);
  const action = "policy.schema.remove";
  if (outcome.refusal) {
    await auditRefusal(ctx, action, namespace, outcome.refusal);
    return outcome.refusal;
  }
  await audit(ctx, {
    type: "policy", action, outcome: "success", resource: { type: "policy_schema", id: namespace },
    metadata: { ownerClientId: outcome.removed.ownerClientId, diff: schemaDiff(namespace, outcome.removed.text, "") },
  });
  return { ok: true };
}

const refuse = (reason: SchemaChangeRefusal["reason"], message: string, errors?: CedarProblem[]): SchemaChangeRefusal => ({ ok: false, reason, message, ...(errors && { errors }) });

// A service changes only the namespace it registered; an admin may change any (and one an admin registered is the console's).
function ownershipRefusal(current: { ownerClientId: string | null } | null, by: SchemaRegistrant, namespace: string): SchemaChangeRefusal | null {
  if (!current || !("clientId" in by) || current.ownerClientId === by.clientId) return null;
  return refuse("not_owner", `The namespace ${namespace} was registered by ${current.ownerClientId ? "another client" : "an admin on the console"}: only it can change it (or an admin, on /admin/policies).`);
}

/** The refusal of removing `namespace` while the other services' schemas (`remaining`) refer to its types. */
function stillReferred(remaining: readonly string[], namespace: string): SchemaChangeRefusal | null {
  const read = readRegistered(remaining);
  if (read.ok) return null;
  return refuse("in_use", `Refused: another registered service's schema refers to ${namespace}'s types. Change or remove that schema first.`, read.errors.map((e) => ({ ...e, line: null, column: null })));
}

/** The refusal of a change that would leave the policies in force invalid against the services' `fragments`; null if they stay valid. */
async function policiesBrokenBy(fragments: readonly string[], tx: Parameters<typeof newestPolicy>[0]): Promise<SchemaChangeRefusal | null> {
  const policies = await newestPolicy(tx);
  const check = checkPolicies(policies.text, joinSchemas(fragments));
  if (check.ok) return null;
  const named = [...new Set(check.errors.map((e) => e.policyId).filter((id): id is string => id !== null))];
  return refuse(
    "breaks_policies",
    `Refused: the policies in force (version ${policies.version})${named.length ? ` (${named.join(", ")})` : ""} would no longer validate. Change those policies first, then the schema.`,
    check.errors,
  );
}

async function auditRefusal(ctx: AuditContext, action: string, namespace: string, refusal: SchemaChangeRefusal) {
  const outcome = refusal.reason === "not_owner" || refusal.reason === "breaks_policies" || refusal.reason === "in_use" ? "blocked" : "failure";
  await audit(ctx, { type: "policy", action, outcome, resource: { type: "policy_schema", id: namespace }, metadata: { reason: refusal.reason, errors: refusal.errors?.length ?? 0 } });
}

const schemaDiff = (namespace: string, before: string, after: string) =>
  createTwoFilesPatch(`${namespace} (before)`, `${namespace} (after)`, before, after, undefined, undefined, { context: 2 });
