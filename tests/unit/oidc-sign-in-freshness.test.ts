import { describe, expect, it } from "vitest";
import { acrOf, acrValuesAsked, amrOf, strengthAsked, strengthMeets, strengthOfAmr } from "@/lib/oidc/amr";
import { needsFreshLogin, wantsAnotherAccount } from "@/lib/oidc/interactions";

// What an app is told about how the user signed in (amr), what a refresh is judged by afterwards,
// and when the login page must ask for a new sign-in rather than "Continue as…".

describe("acr", () => {
  it("an app's acr_values ask for the weakest class Gatehouse knows among them; unknown classes ask for nothing", () => {
    expect(strengthAsked(["phr", "mfa"])).toBe("mfa");
    expect(strengthAsked(["urn:example:gold", "phr"])).toBe("phishing_resistant");
    expect(strengthAsked(["urn:example:gold"])).toBeNull();
    expect(strengthAsked([])).toBeNull();
    expect(acrValuesAsked("mfa  phr")).toEqual(["mfa", "phr"]);
    expect(acrValuesAsked(undefined)).toEqual([]);
    expect(acrValuesAsked(["mfa"])).toEqual([]);
  });

  it("a stronger sign-in meets a weaker class, and the ID token names the strongest class asked that it met", () => {
    expect(strengthMeets("phishing_resistant", "mfa")).toBe(true);
    expect(strengthMeets("mfa", "phishing_resistant")).toBe(false);
    expect(strengthMeets("password", null)).toBe(true);
    expect(acrOf("phishing_resistant", ["mfa"])).toBe("mfa");
    expect(acrOf("phishing_resistant", ["mfa", "phr"])).toBe("phr");
    expect(acrOf("mfa", [])).toBe("mfa");
    expect(acrOf("password", ["mfa"])).toBe("pwd");
  });
});

describe("amr", () => {
  it("names each method once, and says mfa for two factors or for a passkey alone (user verification is required)", () => {
    expect(amrOf(["password"])).toEqual(["pwd"]);
    expect(amrOf(["password", "totp"])).toEqual(["pwd", "otp", "mfa"]);
    expect(amrOf(["password", "totp", "backup_code"])).toEqual(["pwd", "otp", "mfa"]);
    expect(amrOf(["passkey"])).toEqual(["hwk", "mfa"]);
    expect(amrOf(["password", "trusted_device"])).toEqual(["pwd", "rba", "mfa"]);
    expect(amrOf(["something_new"])).toEqual([]);
  });

  it("reads back into the strength a refresh is judged by", () => {
    expect(strengthOfAmr(amrOf(["passkey"]))).toBe("phishing_resistant");
    expect(strengthOfAmr(amrOf(["password", "totp"]))).toBe("mfa");
    expect(strengthOfAmr(amrOf(["password"]))).toBe("password");
    // "mfa" alone proves nothing: a token claiming only it is a password's.
    expect(strengthOfAmr(["mfa"])).toBe("password");
    expect(strengthOfAmr(undefined)).toBe("password");
  });
});

describe("needsFreshLogin", () => {
  const startedAt = new Date("2026-12-06T10:00:00Z");
  const now = new Date("2026-12-06T10:01:00Z");
  const asked = (reasons: string[], maxAge: number | null = null) => ({ reasons, maxAge, startedAt });

  it("prompt=login: a sign-in from before the request is not enough; one after it is", () => {
    expect(needsFreshLogin(asked(["login_prompt"]), new Date("2026-12-06T09:59:59Z"), now)).toBe(true);
    expect(needsFreshLogin(asked(["login_prompt"]), startedAt, now)).toBe(false);
  });

  it("max_age: a sign-in older than it is not enough, however the prompt came about", () => {
    expect(needsFreshLogin(asked(["max_age"], 300), new Date("2026-12-06T09:50:00Z"), now)).toBe(true);
    expect(needsFreshLogin(asked(["max_age"], 300), new Date("2026-12-06T09:57:00Z"), now)).toBe(false);
    expect(needsFreshLogin(asked(["no_session"], 0), new Date("2026-12-06T09:59:00Z"), now)).toBe(true);
  });

  it("any other reason (no provider session yet, a portal session changed) lets the current sign-in continue", () => {
    expect(needsFreshLogin(asked(["no_session"]), new Date("2026-12-01T00:00:00Z"), now)).toBe(false);
    expect(needsFreshLogin(asked(["portal_session"]), new Date("2026-12-01T00:00:00Z"), now)).toBe(false);
  });
});

describe("wantsAnotherAccount", () => {
  it("only when the app names an account (id_token_hint) other than the one signed in", () => {
    expect(wantsAnotherAccount({ hintedAccountId: "alice" }, "bob")).toBe(true);
    expect(wantsAnotherAccount({ hintedAccountId: "alice" }, "alice")).toBe(false);
    expect(wantsAnotherAccount({ hintedAccountId: null }, "bob")).toBe(false);
  });
});
