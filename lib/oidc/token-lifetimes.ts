// The token lifetimes a client gets when it names none (a registered client may not), in seconds.
// Not "server-only": the console's client form starts a new client with them.
export const DEFAULT_ACCESS_TOKEN_TTL = 600;
export const DEFAULT_REFRESH_TOKEN_TTL = 14 * 86_400;
/** The provider's own session (single sign-on to apps); an ID token it issued is an id_token_hint as long. */
export const PROVIDER_SESSION_TTL = 14 * 86_400;
