import { describe, expect, it } from "vitest";
import { errorPageHtml, signOutPage } from "@/lib/oidc/provider-pages";

const NOW = new Date("2026-12-04T02:10:33.120Z");
const visibleText = (html: string) => html.replace(/<details>[\s\S]*<\/details>/, "").replace(/<style>[\s\S]*<\/style>/, "").replace(/<[^>]+>/g, " ");

describe("the OpenID provider's error page", () => {
  it("tells people what happened in plain words and keeps the protocol's code for support", () => {
    const html = errorPageHtml({ error: "invalid_redirect_uri", error_description: "redirect_uri did not match any of the client's registered redirect_uris" }, "authorization", NOW);
    expect(html).toContain("<h1>We could not sign you in to the app</h1>");
    expect(html).toContain("an address it has not registered");
    expect(html).toContain("Error code: <code>invalid_redirect_uri</code>");
    expect(html).toContain("2026-12-04 02:10:33 UTC");
    // The protocol's wording only in the collapsed details.
    expect(visibleText(html)).not.toContain("redirect_uris");
    expect(html).toContain("<summary>Technical details</summary>");
  });

  it("escapes everything the request could have put in it, and runs no script", () => {
    const html = errorPageHtml({ error: "invalid_request\"><script>alert(1)</script>", error_description: "<img src=x onerror=alert(1)> & 'quoted'" }, undefined, NOW);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt; &amp; &#39;quoted&#39;");
    // An unknown code gets the general explanation.
    expect(html).toContain("incomplete, out of date or not allowed");
  });

  it("says sign-out on the sign-out routes", () => {
    expect(errorPageHtml({ error: "invalid_request" }, "end_session", NOW)).toContain("<h1>We could not sign you out of the app</h1>");
    expect(errorPageHtml({ error: "invalid_request" }, "end_session", NOW)).not.toContain("<details>");
  });

  it("asks before signing out, in the card's look, with the app's name escaped (apps that register themselves choose their name)", () => {
    const form = '<form id="op.logoutForm" method="post" action="/oidc/session/end/confirm"><input type="hidden" name="xsrf" value="abc"/></form>';
    const html = signOutPage('Evil <img src=x onerror=alert(1)>', form);
    expect(html).toContain("<h1>Sign out of Evil &lt;img src=x onerror=alert(1)&gt;?</h1>");
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain(form);
    expect(html).toMatch(/<button class="primary" [^>]*name="logout"[^>]*>Sign out everywhere<\/button>/);
    expect(signOutPage(undefined, form)).toContain("<h1>Sign out?</h1>");
  });
});
