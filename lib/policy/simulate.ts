import "server-only";
import { z } from "zod";
import { decide, preparse, type CedarEntity, type CedarRequest } from "./cedar";
import { cedarContext, cedarIpSchema, clientEntity, REQUEST_VIAS, userEntity } from "./pdp";
import { checkPolicies, type PolicyCheck, type PolicyPrincipal } from "./store";
import { CONSOLE_SECTIONS } from "./schema";

// The editor's simulator: one request against the text in the editor (published or not), with
// the decision, the policies that decided it and any evaluation errors.

const checkbox = z.literal("on").optional().transform((v) => v === "on");

export const simulationSchema = z.object({
  principalType: z.enum(["user", "client"]),
  principal: z.string().trim().min(1, "Name the principal: a user's email or a client id.").max(254),
  action: z.enum(["view", "manage", "issueToken", "access"]),
  resourceType: z.enum(["console", "client", "resource"]),
  resource: z.string().trim().min(1, "Name the resource.").max(200),
  resourceKind: z.string().trim().max(100).optional(),
  // <input type="datetime-local"> sends no zone; a typed "…Z" is UTC too.
  at: z.iso.datetime({ local: true, message: "Give a date and time (UTC)." }).transform((v) => new Date(/z$/i.test(v) ? v : `${v}Z`)),
  ip: z.string().trim().pipe(z.literal("").or(cedarIpSchema)).optional(),
  risk: z.coerce.number().min(0).max(1),
  authStrength: z.enum(["password", "mfa", "phishing_resistant"]),
  mfaFresh: checkbox,
  deviceTrusted: checkbox,
  via: z.enum(REQUEST_VIAS).default("interactive"),
});
export type SimulationInput = z.infer<typeof simulationSchema>;

export type SimulationResult =
  | { kind: "invalid"; check: PolicyCheck }
  | { kind: "unknown_principal"; message: string }
  | { kind: "decision"; decision: "allow" | "deny"; policies: string[]; errors: { policyId: string; message: string }[]; micros: number };

const TYPES = { console: "Gatehouse::Console", client: "Gatehouse::Client", resource: "Gatehouse::Resource" } as const;

/** `user`: the principal when principalType is "user", looked up by the caller (lib/auth owns users); null if no such user. */
/** `clientNames`: the names of the clients the request names, by id (a client not found goes by its id). */
export function simulate(text: string, input: SimulationInput, user: PolicyPrincipal | null, clientNames: ReadonlyMap<string, string> = new Map()): SimulationResult {
  const check = checkPolicies(text);
  if (!check.ok) return { kind: "invalid", check };
  if (input.resourceType === "console" && !(CONSOLE_SECTIONS as readonly string[]).includes(input.resource)) {
    return { kind: "unknown_principal", message: `The console has no section "${input.resource}". Sections: ${CONSOLE_SECTIONS.join(", ")}.` };
  }
  const entities: CedarEntity[] = [];
  let principal: CedarRequest["principal"];
  if (input.principalType === "user") {
    if (!user) return { kind: "unknown_principal", message: `No user has the email ${input.principal}.` };
    entities.push(userEntity(user));
    principal = { type: "Gatehouse::User", id: user.userId };
  } else {
    entities.push(clientEntity({ id: input.principal, name: clientNames.get(input.principal) ?? input.principal }));
    principal = { type: "Gatehouse::Client", id: input.principal };
  }
  const resource = { type: TYPES[input.resourceType], id: input.resource };
  if (input.resourceType === "client" && resource.id !== principal.id) entities.push(clientEntity({ id: input.resource, name: clientNames.get(input.resource) ?? input.resource }));
  if (input.resourceType === "resource") entities.push({ uid: resource, attrs: { kind: input.resourceKind || "document" }, parents: [] });

  const context = cedarContext({ ip: input.ip || null, risk: input.risk, authStrength: input.authStrength, mfaFresh: input.mfaFresh, deviceTrusted: input.deviceTrusted }, input.at, input.via);
  preparse("gatehouse-simulation", text);
  const started = performance.now();
  const result = decide("gatehouse-simulation", { principal, action: { type: "Gatehouse::Action", id: input.action }, resource, context, entities });
  return { kind: "decision", ...result, micros: Math.round((performance.now() - started) * 1000) };
}
