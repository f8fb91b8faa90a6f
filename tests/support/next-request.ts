// The request headers `next/headers` answers with in tests that mock it: lib/oidc/interactions.ts
// replays them to the provider, as the interaction page does with the browser's request.
// Free of imports, so a vi.mock factory can load it without a cycle.
export const nextRequest = { headers: new Headers() };
