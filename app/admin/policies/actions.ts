"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { actorChanged, checkAccess, consoleSubject, findPrincipalByEmail, guardedAction, listActiveAdmins } from "@/lib/auth";
import {
  checkPolicies, formatPolicies, publishPolicies, rebaseDraft, registerServiceSchema, removeServiceSchema, rollbackPolicies, saveDraft, schemaInForce,
  serviceNamespace, serviceSchemaText, simulate, simulationSchema,
} from "@/lib/policy";
import { clientNames } from "@/lib/oidc";

const VIEW = { section: "policies", action: "view" } as const;
const MANAGE = { section: "policies", action: "manage" } as const;
const USERS_VIEW = { section: "users", action: "view" } as const;
const policyText = z.string().max(100_000, "A policy set is limited to 100,000 characters.");

export const validatePoliciesAction = guardedAction(VIEW, z.object({ text: policyText }), async ({ text }) => {
  const check = checkPolicies(text, await schemaInForce());
  return { ok: check.ok, message: check.ok ? "Valid against the schema (Gatehouse's and the services')." : `${check.errors.length} problem${check.errors.length === 1 ? "" : "s"}.`, data: check };
});

export const formatPoliciesAction = guardedAction(VIEW, z.object({ text: policyText }), async ({ text }) => {
  const formatted = formatPolicies(text);
  return formatted.ok ? { ok: true, data: { text: formatted.text } } : { ok: false, message: "Fix the syntax errors before formatting.", data: { errors: formatted.errors } };
});

const version = z.coerce.number().int().min(0).max(2 ** 31 - 1);
const comment = z.string().trim().min(3, "Say what changes and why, for the history.").max(300);
const savedAt = z.iso.datetime().transform((at) => new Date(at));

export const saveDraftAction = guardedAction(MANAGE, z.object({ text: policyText, baseVersion: version }), async ({ text, baseVersion }, _user, ctx) => {
  await saveDraft(text, baseVersion, ctx);
  revalidatePath("/admin/policies");
  return { ok: true, message: "Draft saved. It is not in force until published." };
});

export const rebaseDraftAction = guardedAction(MANAGE, z.object({ draftSavedAt: savedAt, checkedVersion: version }), async ({ draftSavedAt, checkedVersion }, _user, ctx) => {
  const result = await rebaseDraft(draftSavedAt, checkedVersion, ctx);
  revalidatePath("/admin/policies");
  return result.ok ? { ok: true, message: `The draft is now based on version ${result.baseVersion}.` } : result;
});

export const publishPoliciesAction = guardedAction(
  MANAGE,
  z.object({ text: policyText, comment, baseVersion: version, draftSavedAt: savedAt.optional() }),
  async ({ text, comment, baseVersion, draftSavedAt }, user, ctx) => {
    const result = await publishPolicies(text, comment, await consoleSubject(user), listActiveAdmins, ctx, { baseVersion, draftSavedAt: draftSavedAt ?? null, publisherChanged: (tx) => actorChanged(tx, user) });
    revalidatePath("/admin", "layout");
    return result.ok
      ? { ok: true, message: `Published as version ${result.version}. It is in force on every instance within a second.` }
      : { ok: false, message: result.message, data: { errors: result.errors ?? [], warnings: [] } };
  },
  { stepUp: "second-factor" },
);

export const rollbackPoliciesAction = guardedAction(
  MANAGE,
  z.object({ version, baseVersion: version }),
  async ({ version, baseVersion }, user, ctx) => {
    const result = await rollbackPolicies(version, `Rolled back to version ${version}`, await consoleSubject(user), listActiveAdmins, ctx, { baseVersion, publisherChanged: (tx) => actorChanged(tx, user) });
    revalidatePath("/admin", "layout");
    return result.ok ? { ok: true, message: `Version ${version} is in force again, as version ${result.version}.` } : { ok: false, message: result.message };
  },
  { stepUp: "second-factor" },
);

export const simulateAction = guardedAction(VIEW, simulationSchema.extend({ text: policyText }), async ({ text, ...request }, caller) => {
  // A user's decision tells whether the account exists and what roles and groups it holds: that is
  // for those who may see the users list, not for everyone who may read the policies (an auditor).
  if (request.principalType === "user" && !(await checkAccess(caller, USERS_VIEW))) {
    return { ok: false, fieldErrors: { principal: ["Simulating a user needs access to the users page: ask someone who has it, or simulate a client."] } };
  }
  const user = request.principalType === "user" ? await findPrincipalByEmail(request.principal) : null;
  // Client.name is the name the console shows: looked up as the token endpoint has it.
  const clientIds = [...(request.principalType === "client" ? [request.principal] : []), ...(request.resourceType === "client" ? [request.resource] : [])];
  const result = simulate(text, await schemaInForce(), request, user, await clientNames(clientIds));
  return { ok: true, data: result };
});

// A service's types and actions, from the console: asks for a fresh second factor, as a publish
// does (a schema decides what policies can say).
export const registerServiceSchemaAction = guardedAction(MANAGE, z.object({ namespace: serviceNamespace, text: serviceSchemaText }), async ({ namespace, text }, _user, ctx) => {
  const result = await registerServiceSchema(namespace, text, { admin: true }, ctx);
  revalidatePath("/admin/policies");
  if (!result.ok) return { ok: false, message: result.message, data: { errors: result.errors ?? [] } };
  return { ok: true, message: `${result.created ? "Registered" : "Updated"} ${namespace}: policies may name its ${result.schema.entityTypes.length} types and ${result.schema.actions.length} actions.` };
}, { stepUp: "second-factor" });

export const removeServiceSchemaAction = guardedAction(MANAGE, z.object({ namespace: serviceNamespace }), async ({ namespace }, _user, ctx) => {
  const result = await removeServiceSchema(namespace, { admin: true }, ctx);
  revalidatePath("/admin/policies");
  return result.ok ? { ok: true, message: `Removed ${namespace}.` } : { ok: false, message: result.message };
}, { stepUp: "second-factor" });
