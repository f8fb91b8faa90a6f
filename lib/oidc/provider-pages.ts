import "server-only";
import type { ErrorOut, KoaContextWithOIDC } from "oidc-provider";
import { escapeHtml } from "../util/html";

// The pages oidc-provider itself shows a person: its error page (when it cannot send an error back
// to the app: an unknown app, a redirect address the app never registered, a malformed request)
// and the sign-out pages. They are served outside Next.js under PROVIDER_CSP
// (lib/http/security-headers.ts): plain HTML in the sign-in card's look, no script, every value
// escaped. On the error page people get a plain-language reason; the protocol's code and
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
summary{cursor:pointer}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:1rem}
button{font:inherit;font-weight:500;padding:.5rem 1rem;border-radius:.375rem;cursor:pointer;border:1px solid #cbd5e1;background:#fff;color:#0f172a}
button.primary{border-color:#2342c7;background:#2342c7;color:#fff}`;

/** A provider page: the brand, and a card titled `title` around `bodyHtml` (already escaped by the caller). */
function providerPage(title: string, bodyHtml: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)} · Gatehouse</title><style>${STYLE}</style></head><body><main>
<p class="brand">Gatehouse</p>
<section class="card"><header><h1>${escapeHtml(title)}</h1></header><div class="body">
${bodyHtml}
</div></section></main></body></html>`;
}

/**
 * RP-initiated logout's question. `form` is the provider's own form (with its CSRF token), which
 * the buttons submit: "logout" ends the provider session everywhere, without it only this app's.
 */
export function signOutPage(appName: string | undefined, form: string): string {
  return providerPage(appName ? `Sign out of ${appName}?` : "Sign out?", `${form}
<p>Signing out everywhere also ends your Gatehouse session in this browser.</p>
<div class="actions"><button class="primary" autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Sign out everywhere</button>
<button type="submit" form="op.logoutForm">Only this application</button></div>`);
}

export function signedOutPage(): string {
  return providerPage("You are signed out", `<p>You can close this window, or <a href="/sign-in">sign in again</a>.</p>`);
}

/** The whole page for `out` (the protocol's error) met on `route`, at `now`. */
export function errorPageHtml(out: ErrorOut, route: string | undefined, now: Date): string {
  const signingOut = route?.startsWith("end_session") ?? false;
  const title = signingOut ? "We could not sign you out of the app" : "We could not sign you in to the app";
  const reason = REASONS[out.error] ?? MALFORMED;
  const details = out.error_description
    ? `<details><summary>Technical details</summary><p><code>${escapeHtml(out.error_description)}</code></p></details>`
    : "";
  return providerPage(title, `<p>${escapeHtml(reason)}</p>
<p>Go back to the app and try again. If it keeps happening, tell your administrator or the app's support, with the error code below.</p>
<p><a href="/account">Go to your Gatehouse account</a></p>
<div class="support"><p>Error code: <code>${escapeHtml(out.error)}</code></p><p>Time: ${escapeHtml(now.toISOString().slice(0, 19).replace("T", " "))} UTC</p>${details}</div>`);
}

/** The page for oidc-provider's renderError hook. ctx.oidc is missing when the request failed before the provider read it. */
export function errorPage(ctx: KoaContextWithOIDC, out: ErrorOut): string {
  return errorPageHtml(out, ctx.oidc?.route, new Date());
}
