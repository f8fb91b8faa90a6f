import "server-only";
import { z } from "zod";
import { decide, preparse, type CedarEntity, type CedarRequest } from "./cedar";
import { cedarContext, cedarCountrySchema, cedarIpSchema, clientEntity, REQUEST_VIAS, userEntity } from "./pdp";
import { checkPolicies, type PolicyCheck, type PolicyPrincipal } from "./store";
import { CONSOLE_SECTIONS } from "./schema";
import { MAX_TYPE_NAME, SERVICE_ACTION, SERVICE_TYPE } from "./names";
import { countryOf } from "../geo";

// The editor's simulator: one request against the text in the editor (published or not), with
// the decision, the policies that decided it and any evaluation errors.

const checkbox = z.literal("on").optional().transform((v) => v === "on");

// Gatehouse's own actions by name; a registered service's as policies name them: Docs::Action::"read".
const GATEHOUSE_ACTIONS = ["view", "manage", "issueToken", "access"] as const;

export const simulationSchema = z.object({
  principalType: z.enum(["user", "client"]),
  principal: z.string().trim().min(1, "Name the principal: a user's email or a client id.").max(254),
  action: z.union([z.enum(GATEHOUSE_ACTIONS), z.string().regex(SERVICE_ACTION)], { error: "Choose an action." }),
  resourceType: z.union([z.enum(["console", "client", "resource"]), z.string().max(MAX_TYPE_NAME).regex(SERVICE_TYPE).refine((type) => !type.startsWith("Gatehouse::"))], { error: "Choose a resource type." }),
  resource: z.string().trim().min(1, "Name the resource.").max(200),
  resourceKind: z.string().trim().max(100).optional(),
  // A service's resource carries what the service would send: Cedar's JSON form of its attributes.
  resourceAttributes: z.string().trim().max(4000).optional().transform((text, ctx) => {
    if (!text) return {};
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, CedarEntity["attrs"][string]>;
    } catch {
      // answered below
    }
    ctx.addIssue({ code: "custom", message: 'Give the attributes as a JSON object, in Cedar\'s form: {"owner": {"__entity": {"type": "Gatehouse::User", "id": "…"}}}.' });
    return z.NEVER;
  }),
  // <input type="datetime-local"> sends no zone; a typed "…Z" is UTC too.
  at: z.iso.datetime({ local: true, message: "Give a date and time (UTC)." }).transform((v) => new Date(/z$/i.test(v) ? v : `${v}Z`)),
  ip: z.string().trim().pipe(z.literal("").or(cedarIpSchema)).optional(),
  // Blank: the IP address's country, as for a real request.
  country: z.string().trim().toUpperCase().pipe(cedarCountrySchema).optional(),
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
  | { kind: "decision"; decision: "allow" | "deny"; policies: string[]; errors: { policyId: string; message: string }[]; micros: number; country: string };

const TYPES: Record<string, string> = { console: "Gatehouse::Console", client: "Gatehouse::Client", resource: "Gatehouse::Resource" };

/** `user`: the principal when principalType is "user", looked up by the caller (lib/auth owns users); null if no such user. */
/** `clientNames`: the names of the clients the request names, by id (a client not found goes by its id). */
/** `schema`: what the policies are validated against (schemaInForce). */
export function simulate(text: string, schema: string, input: SimulationInput, user: PolicyPrincipal | null, clientNames: ReadonlyMap<string, string> = new Map()): SimulationResult {
  const check = checkPolicies(text, schema);
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
  const resource = { type: TYPES[input.resourceType] ?? input.resourceType, id: input.resource };
  if (input.resourceType === "client" && resource.id !== principal.id) entities.push(clientEntity({ id: input.resource, name: clientNames.get(input.resource) ?? input.resource }));
  if (input.resourceType === "resource") entities.push({ uid: resource, attrs: { kind: input.resourceKind || "document" }, parents: [] });
  if (!(input.resourceType in TYPES)) entities.push({ uid: resource, attrs: input.resourceAttributes, parents: [] });
  const service = SERVICE_ACTION.exec(input.action);
  const action = service ? { type: `${service[1]}::Action`, id: service[2]! } : { type: "Gatehouse::Action", id: input.action };

  // The country typed, or the address's, as for a real request: shown with the decision.
  const country = input.country || countryOf(input.ip || null);
  const context = cedarContext({ ip: input.ip || null, country, risk: input.risk, authStrength: input.authStrength, mfaFresh: input.mfaFresh, deviceTrusted: input.deviceTrusted }, input.at, input.via);
  preparse("gatehouse-simulation", text);
  const started = performance.now();
  const result = decide("gatehouse-simulation", { principal, action, resource, context, entities });
  return { kind: "decision", ...result, micros: Math.round((performance.now() - started) * 1000), country };
}
