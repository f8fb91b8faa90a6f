import "server-only";
import { z } from "zod";
import { readConfig } from "../config";
import { audit, type AuditContext } from "../audit/context";
import type { CedarEntity, CedarRequest } from "./cedar";
import { authorize, cedarContext, cedarCountrySchema, cedarIpSchema, policySetInForce } from "./pdp";
import { MAX_TYPE_NAME, TYPE_NAME } from "./names";
export { PDP_PATH } from "./paths";

// The decision point for other services (POST /api/v1/authorize): one request or a batch of up
// to 100, in Cedar's JSON shapes, under the policy set in force. Context values Gatehouse knows
// how to fill (time, and the restrictive value for the rest) are filled, so policies never fail
// on a missing attribute; `ip` and `risk` are given as plain strings and numbers.

export const PDP_SCOPE = "pdp";
// A request that gives no risk score is judged as the riskiest: a risk ceiling cannot be passed by leaving the score out.
const UNKNOWN_RISK = 1;
export const PDP_MAX_BODY_BYTES = 256 * 1024;
export const PDP_MAX_BATCH = 100;

// Text Cedar can read: JSON's "\ud800" parses to a lone surrogate, which Cedar throws on rather than refusing.
const text = (max: number) => z.string().max(max).refine((value) => value.isWellFormed(), "Strings must be valid Unicode (no lone surrogate).");
// Within what the audit trail records of a resource (a sampled decision must never fail to be written).
// Gatehouse's types, or a registered service's (service-schemas.ts). Requests are not checked
// against the schemas: a type nobody declared matches only policies that leave that part open.
const typeName = text(MAX_TYPE_NAME).regex(TYPE_NAME, `Types are <Namespace>::<Name>: Gatehouse::<Name>, or a registered service's (at most ${MAX_TYPE_NAME} characters; see the schemas on /admin/policies).`);
const name = text(200).min(1);
const entityRef = z.object({ type: typeName, id: name });

// Cedar's numbers are whole (64-bit; JSON keeps them exact to 2^53): a fraction has no Cedar type.
const cedarLong = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const cedarValue: z.ZodType<unknown> = z.lazy(() => z.union([text(1000), cedarLong, z.boolean(), z.array(cedarValue).max(100), z.record(text(100), cedarValue)]));
const entity = z.object({ uid: entityRef, attrs: z.record(text(100), cedarValue).default({}), parents: z.array(entityRef).max(50).default([]) });

const decisionRequest = z.object({
  principal: entityRef,
  action: z.union([name, entityRef]).transform((a) => (typeof a === "string" ? { type: "Gatehouse::Action", id: a } : a)),
  resource: entityRef,
  context: z
    .object({
      ip: cedarIpSchema.optional(),
      // Where the service's caller is, if the service knows better than the IP address's country.
      country: cedarCountrySchema.optional(),
      risk: z.number().min(0).max(1).optional(),
      authStrength: z.enum(["password", "mfa", "phishing_resistant"]).optional(),
      mfaFresh: z.boolean().optional(),
      deviceTrusted: z.boolean().optional(),
    })
    .strict()
    .default({}),
  entities: z.array(entity).max(100).default([]),
});

export const pdpBodySchema = z.union([decisionRequest.strict(), z.object({ requests: z.array(decisionRequest.strict()).min(1).max(PDP_MAX_BATCH) }).strict()]);
export type PdpBody = z.infer<typeof pdpBodySchema>;

export type ServiceDecision = { decision: "allow" | "deny"; policies: string[]; errors: { policyId: string; message: string }[]; evaluationMicros: number };

/** `unreadable`: Cedar could not read one of the requests (e.g. an `__extn` escape it does not know), so none is answered. */
export async function decideForService(body: PdpBody, caller: AuditContext, now = new Date()): Promise<ServiceDecision | { results: ServiceDecision[]; policyVersion: number } | { unreadable: string }> {
  const requests = "requests" in body ? body.requests : [body];
  // One version for the whole batch, the one its answer names.
  const set = await policySetInForce();
  const decided: { request: CedarRequest; decision: Awaited<ReturnType<typeof authorize>> }[] = [];
  for (const [index, r] of requests.entries()) {
    const cedar: CedarRequest = {
      principal: r.principal, action: r.action, resource: r.resource, entities: r.entities as CedarEntity[],
      context: cedarContext({ ip: r.context.ip ?? null, country: r.context.country, risk: r.context.risk ?? UNKNOWN_RISK, authStrength: r.context.authStrength ?? "password", mfaFresh: r.context.mfaFresh ?? false, deviceTrusted: r.context.deviceTrusted ?? false }, now, "service"),
    };
    const decision = await authorize(cedar, set);
    if (decision.unreadable) return { unreadable: `${"requests" in body ? `requests[${index}]: ` : ""}${decision.errors.map((e) => e.message).join("; ")}` };
    decided.push({ request: cedar, decision });
  }
  // Sampled once the whole batch is answered: a batch refused for one unreadable request decided nothing.
  for (const { request, decision } of decided) await maybeAudit(request, decision, caller);
  const results = decided.map(({ decision }): ServiceDecision => ({ decision: decision.decision, policies: decision.policies, errors: decision.errors, evaluationMicros: decision.micros }));
  return "requests" in body ? { results, policyVersion: set.version } : results[0]!;
}

// A sample of decisions (GATEHOUSE_PDP_AUDIT_SAMPLE, 0–1) goes to the audit log with its timing;
// recording every one would make the audit trail the bottleneck of every service.
let sampleRate: number | null = null;
async function maybeAudit(request: CedarRequest, decision: Awaited<ReturnType<typeof authorize>>, caller: AuditContext) {
  sampleRate ??= readConfig().GATEHOUSE_PDP_AUDIT_SAMPLE;
  if (Math.random() >= sampleRate) return;
  await audit(caller, {
    type: "policy", action: "pdp.decision", outcome: decision.decision === "allow" ? "success" : "blocked",
    resource: { type: request.resource.type, id: request.resource.id },
    metadata: { principal: request.principal, action: request.action, decision: decision.decision, policies: decision.policies, errors: decision.errors.length, evaluationMicros: decision.micros, policyVersion: decision.version, sampleRate },
  });
}
