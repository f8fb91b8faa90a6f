// Which requests server.ts hands to the provider. Deliberately free of server-only imports:
// server.ts loads it outside Next.

/** Paths the provider answers: its own routes and the two discovery documents. */
export function isOidcPath(url: string): boolean {
  return url.startsWith("/oidc/") || url.startsWith("/.well-known/openid-configuration") || url.startsWith("/.well-known/oauth-authorization-server");
}
