// lib/oidc's public surface: the OAuth 2.1 / OpenID Connect provider (panva's oidc-provider),
// its clients, signing keys, consents and the login/consent interactions.
export { getProvider, issuer, OIDC_PREFIX } from "./provider";
export {
  createClient, updateClient, rotateClientSecret, deleteClient, listClients, listActiveClients, clientNames, setClientDisabled, clientInputSchema, redirectUriProblem, GRANT_TYPES,
  type ClientInput, type ClientView, type ClientSettings, type ActiveClient,
} from "./clients";
export { listSigningKeys, listActiveSigningKeys, checkSigningKeysSealed, SIGNING_KEY_SECRETS, rotateSigningKeys, scheduleSigningKeyRotation, retireSigningKeyNow, type SigningKeyView } from "./keys";
export { listConnectedApps, listClientGrants, clientScopesUsedSince, revokeConnectedApp, revokeClientGrants, revokeUserGrants, type ConnectedApp, type ClientGrant } from "./consents";
export { loadInteraction, needsFreshLogin, wantsAnotherAccount, strongerSignInAsked, completeLogin, completeConsent, denyInteraction, refuseByPolicy, type InteractionView } from "./interactions";
export { issueInitialAccessToken } from "./registration";
export { sweepExpiredOidcModels, checkTokensHashed } from "./adapter";
export { startOidc } from "./start";
export { verifyAccessToken, type VerifiedAccessToken, type TokenProblem } from "./access-tokens";
