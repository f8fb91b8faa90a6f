import { describe, expect, it } from "vitest";
import { apiScopeText, scopeText } from "@/components/oidc/scope-text";

// What the consent page and the connected-apps list tell a person a scope lets an app do.
describe("scope text", () => {
  it("says in words what the standard scopes give, and names an API's own scope as it is", () => {
    expect(scopeText("email")).toBe("Your email address");
    expect(scopeText("reports:read")).toBe("Use the API permission “reports:read”");
  });

  it("names the API a scope is for, so the same word asked of two APIs reads as two different grants", () => {
    const asked = [apiScopeText("read", "https://payroll.example.test/api"), apiScopeText("read", "https://wiki.example.test")];
    expect(asked).toEqual(["Use the API permission “read” of payroll.example.test", "Use the API permission “read” of wiki.example.test"]);
    expect(apiScopeText("openid", null)).toBe(scopeText("openid"));
  });
});
