// lib/policy's public surface: the decision point, the policy store and the editor's helpers.
export { authorize, consoleAllows, consolePowersBeyond, consoleRequest, tokenRequest, clientTokenRequest, authStrength, policySetInForce, type ConsoleSubject, type AuthStrength, type Decision, type PolicyClient } from "./pdp";
export { checkPolicies, schemaInForce, policyEditorState, saveDraft, rebaseDraft, publishPolicies, rollbackPolicies, resetPolicies, listPolicyVersions, POLICY_HISTORY_SHOWN, listPolicyVersionAttribution, formatPolicies, type PolicyCheck, type PublishResult, type PolicyPrincipal, type AdminsReader } from "./store";
export { CEDAR_SCHEMA, DEFAULT_POLICIES, POLICY_TEMPLATES, CONSOLE_SECTIONS, CONSOLE_ACTIONS, type ConsoleSection, type ConsoleAction } from "./schema";
export type { CedarProblem, CedarRequest } from "./cedar";
export { simulate, simulationSchema, type SimulationInput, type SimulationResult } from "./simulate";
export { decideForService, pdpBodySchema, PDP_SCOPE, PDP_PATH, PDP_MAX_BODY_BYTES, PDP_MAX_BATCH, type ServiceDecision } from "./service-api";
export { startDecisionPointApi } from "./http";
export { listServiceSchemas, registerServiceSchema, removeServiceSchema, serviceNamespace, serviceSchemaText, SERVICE_SCHEMA_SCOPE, type ServiceSchemaView } from "./service-schemas";
export { listSchemasAnswer, getSchemaAnswer, putSchemaAnswer, deleteSchemaAnswer } from "./schema-api";
