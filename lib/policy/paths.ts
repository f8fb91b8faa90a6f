// Free of imports: server.ts reads it outside Next to route the decision-point API.
export const PDP_PATH = "/api/v1/authorize";
