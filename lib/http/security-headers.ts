// The security headers of every response. Not "server-only": next.config.ts, proxy.ts and
// server.ts (which serves the OpenID provider and the decision point outside Next.js) use them.

/** On every response: no sniffing, no framing, little referrer, no powerful features, HTTPS only. */
export const SECURITY_HEADERS: readonly { key: string; value: string }[] = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  // Passkeys need publickey-credentials-get/create, which default to this origin: left alone.
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()" },
  // Browsers ignore it over plain http (local use), and keep to https for two years after one visit over https.
  { key: "Strict-Transport-Security", value: "max-age=63072000; includeSubDomains" },
];

const policy = (directives: Record<string, string>) => Object.entries(directives).map(([name, value]) => `${name} ${value}`).join("; ");

/**
 * The console's and portal's pages: scripts only with this response's nonce (Next.js puts it on its
 * own scripts) and what they load. Styles may be inline: Tailwind and charts set style attributes,
 * and a style cannot run code. No form-action: the OAuth pages end in redirects to the apps'
 * redirect URIs, which Chromium checks against form-action too.
 */
export function pageCsp(nonce: string, dev: boolean): string {
  return policy({
    "default-src": "'self'",
    "script-src": `'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
  });
}

/**
 * The OpenID provider's own responses (JSON, its error and sign-out pages, form_post): no scripts
 * but the one oidc-provider adds to form_post, whose hash it appends to script-src itself. Fonts
 * from this site: the error page uses the portal's Inter (app/fonts).
 */
export const PROVIDER_CSP = policy({
  "default-src": "'none'",
  "script-src": "'self'",
  "style-src": "'unsafe-inline'",
  "img-src": "'self'",
  "font-src": "'self'",
  "base-uri": "'none'",
  "frame-ancestors": "'none'",
});
