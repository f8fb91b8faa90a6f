import "server-only";
import type { ErrorOut, KoaContextWithOIDC } from "oidc-provider";

// The page oidc-provider shows a person when it cannot send an error back to the app (an unknown
// app, a redirect address the app never registered, a malformed request). It is served outside
// Next.js under PROVIDER_CSP (lib/http/security-headers.ts): plain HTML with inline styles, no
// script, every value escaped. People get a plain-language reason; the protocol's code and
// description stay in small print for whoever they ask for help.

/** What each protocol error means to the person in front of the browser. */
const REASONS: Record<string, string> = {
  invalid_redirect_uri:
    "The app asked Gatehouse to send you back to an address it has not registered. Gatehouse stopped here to keep your account safe: nothing was shared with the app.",
  invalid_client: "Gatehouse does not know the app that sent you here, or the app is no longer allowed to sign people in.",
  unauthorized_client: "This app is not allowed to sign you in this way.",
  access_denied: "Signing in to this app was refused.",
  server_error: "Something went wrong on Gatehouse's side. Try again in a few minutes.",
  temporarily_unavailable: "Gatehouse is busy or being updated. Try again in a few minutes.",
};
const MALFORMED = "The app sent a sign-in request that is incomplete, out of date or not allowed. Going back to the app and starting again usually fixes it.";

const escapeHtml = (value: unknown) => String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The portal's look (app/globals.css, the sign-in card) in plain CSS: the same colours, and Inter
// from /fonts/inter-variable.woff2, since next/font's file has a name that changes with each build.
const STYLE = `
@font-face{font-family:Inter;src:url(/fonts/inter-variable.woff2) format("woff2");font-weight:100 900;font-display:swap}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:3rem 1rem;background:#f8fafc;color:#0f172a;font:14px/1.5 Inter,ui-sans-serif,system-ui,sans-serif;-webkit-font-smoothing:antialiased}
main{width:100%;max-width:24rem}
.brand{margin:0 0 1.5rem;text-align:center;font-size:1.5rem;font-weight:600;letter-spacing:-.025em;color:#172554}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:.5rem;box-shadow:0 1px 2px rgba(15,23,42,.05)}
.card header{padding:1rem 1.25rem;border-bottom:1px solid #f1f5f9}
h1{margin:0;font-size:1rem;font-weight:600}
.body{padding:1rem 1.25rem}
p{margin:0 0 .75rem;color:#334155}
a{color:#2342c7;font-weight:500;text-decoration:none}
a:hover{text-decoration:underline}
.support{margin:1rem 0 0;padding-top:.75rem;border-top:1px solid #f1f5f9;font-size:.75rem;color:#64748b}
.support p{margin:0 0 .25rem;color:#64748b}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
summary{cursor:pointer}`;

/** The whole page for `out` (the protocol's error) met on `route`, at `now`. */
export function errorPageHtml(out: ErrorOut, route: string | undefined, now: Date): string {
  const signingOut = route?.startsWith("end_session") ?? false;
  const title = signingOut ? "We could not sign you out of the app" : "We could not sign you in to the app";
  const reason = REASONS[out.error] ?? MALFORMED;
  const details = out.error_description
    ? `<details><summary>Technical details</summary><p><code>${escapeHtml(out.error_description)}</code></p></details>`
    : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)} · Gatehouse</title><style>${STYLE}</style></head><body><main>
<p class="brand">Gatehouse</p>
<section class="card"><header><h1>${escapeHtml(title)}</h1></header><div class="body">
<p>${escapeHtml(reason)}</p>
<p>Go back to the app and try again. If it keeps happening, tell your administrator or the app's support, with the error code below.</p>
<p><a href="/account">Go to your Gatehouse account</a></p>
<div class="support"><p>Error code: <code>${escapeHtml(out.error)}</code></p><p>Time: ${escapeHtml(now.toISOString().slice(0, 19).replace("T", " "))} UTC</p>${details}</div>
</div></section></main></body></html>`;
}

/** The page for oidc-provider's renderError hook. ctx.oidc is missing when the request failed before the provider read it. */
export function errorPage(ctx: KoaContextWithOIDC, out: ErrorOut): string {
  return errorPageHtml(out, ctx.oidc?.route, new Date());
}
