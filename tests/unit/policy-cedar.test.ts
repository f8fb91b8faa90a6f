import { describe, expect, it } from "vitest";
import { decide, formatPolicies, preparse, validatePolicies, policyIds } from "@/lib/policy/cedar";
import { clientTokenRequest, consoleRequest, tokenRequest, type ConsoleSubject } from "@/lib/policy/pdp";
import { localHourAndDay } from "@/lib/util/time-zone";
import { readConfig } from "@/lib/config";
import { CEDAR_SCHEMA, DEFAULT_POLICIES, POLICY_TEMPLATES } from "@/lib/policy/schema";
import { checkPolicies } from "@/lib/policy/store";

const subject = (roles: string[], extra: Partial<ConsoleSubject> = {}): ConsoleSubject => ({
  userId: "u1", email: "a@example.test", roles, groups: [], ip: "198.51.100.4", risk: 0.1, authStrength: "mfa", mfaFresh: false, deviceTrusted: false, ...extra,
});
const NOON = new Date("2026-11-16T12:00:00Z");
const NIGHT = new Date("2026-11-16T22:00:00Z");

function decideWith(text: string, ...args: Parameters<typeof consoleRequest>) {
  preparse("unit", text);
  return decide("unit", consoleRequest(...args));
}

describe("Gatehouse's Cedar schema and built-in policies", () => {
  it("the defaults and every template validate", () => {
    expect(checkPolicies(DEFAULT_POLICIES, CEDAR_SCHEMA)).toMatchObject({ ok: true, errors: [] });
    for (const t of POLICY_TEMPLATES) expect(checkPolicies(`${DEFAULT_POLICIES}\n${t.text}`, CEDAR_SCHEMA).errors, t.id).toEqual([]);
    expect(policyIds(DEFAULT_POLICIES)).toContain("admins-run-the-console");
  });

  it("the built-in roles reach what the role table promised", () => {
    expect(decideWith(DEFAULT_POLICIES, subject(["user", "admin"]), "policies", "manage", NOON)).toMatchObject({ decision: "allow", policies: ["admins-run-the-console"] });
    expect(decideWith(DEFAULT_POLICIES, subject(["analyst"]), "incidents", "manage", NOON).decision).toBe("allow");
    expect(decideWith(DEFAULT_POLICIES, subject(["analyst"]), "users", "view", NOON).decision).toBe("deny");
    expect(decideWith(DEFAULT_POLICIES, subject(["auditor"]), "audit", "view", NOON).decision).toBe("allow");
    expect(decideWith(DEFAULT_POLICIES, subject(["auditor"]), "audit", "manage", NOON).decision).toBe("deny");
    expect(decideWith(DEFAULT_POLICIES, subject(["user"]), "audit", "view", NOON).decision).toBe("deny");
  });

  it("forbid overrides permit; time, IP, risk and strength conditions", () => {
    const byId = (id: string) => POLICY_TEMPLATES.find((t) => t.id === id)!.text;
    const hours = `${DEFAULT_POLICIES}\n${byId("time-window")}`;
    expect(decideWith(hours, subject(["admin"]), "policies", "manage", NOON).decision).toBe("allow");
    expect(decideWith(hours, subject(["admin"]), "policies", "manage", NIGHT)).toMatchObject({ decision: "deny", policies: ["policy-edits-in-office-hours"] });
    const ipRange = `${DEFAULT_POLICIES}\n${byId("ip-range")}`;
    expect(decideWith(ipRange, subject(["admin"], { ip: "203.0.113.9" }), "users", "view", NOON).decision).toBe("deny");
    expect(decideWith(ipRange, subject(["admin"], { ip: "198.51.100.9" }), "users", "view", NOON).decision).toBe("allow");
    const strength = `${DEFAULT_POLICIES}\n${byId("auth-strength")}`;
    expect(decideWith(strength, subject(["analyst"]), "incidents", "manage", NOON).decision).toBe("deny");
    expect(decideWith(strength, subject(["analyst"], { authStrength: "phishing_resistant" }), "incidents", "manage", NOON).decision).toBe("allow");
    const risk = `${DEFAULT_POLICIES}\n@id("risky-no-console") forbid (principal, action, resource is Gatehouse::Console) when { context.risk.greaterThanOrEqual(decimal("0.7")) };`;
    expect(decideWith(risk, subject(["admin"], { risk: 0.69 }), "users", "view", NOON).decision).toBe("allow");
    expect(decideWith(risk, subject(["admin"], { risk: 0.7 }), "users", "view", NOON).decision).toBe("deny");
  });

  it("the country a request comes from is the address's (GeoIP); the template's allow-list lets the own network in, not unknown places", () => {
    const countries = `${DEFAULT_POLICIES}\n${POLICY_TEMPLATES.find((t) => t.id === "country")!.text}`;
    const from = (ip: string | null) => decideWith(countries, subject(["admin"], { ip }), "users", "view", NOON);
    expect(from("85.214.132.117").decision).toBe("allow"); // Berlin
    expect(from("133.242.0.1")).toMatchObject({ decision: "deny", policies: ["console-from-home-countries"] }); // Tokyo
    expect(from("::ffff:133.242.0.1").decision).toBe("deny"); // the same, as a dual-stack socket reports it
    expect(from("10.0.0.7").decision).toBe("allow"); // a private address is in no country: the template names the own network
    expect(from("198.51.100.7").decision).toBe("deny"); // a documentation address is in no country either
    expect(from(null).decision).toBe("deny");
    const notFromJapan = `${DEFAULT_POLICIES}\n@id("not-from-jp") forbid (principal, action, resource) when { context.country == "JP" };`;
    expect(decideWith(notFromJapan, subject(["admin"], { ip: "133.242.0.1" }), "users", "view", NOON).decision).toBe("deny");
    expect(decideWith(notFromJapan, subject(["admin"], { ip: "10.0.0.7" }), "users", "view", NOON).decision).toBe("allow");
  });

  it("reports validation errors with the line they are on", () => {
    const typo = `${DEFAULT_POLICIES}\n@id("bad")\npermit (principal, action, resource) when { context.riskk > 1 };`;
    const result = validatePolicies(typo, CEDAR_SCHEMA);
    expect(result.ok).toBe(false);
    expect(result.errors[0]!.line).toBe(DEFAULT_POLICIES.split("\n").length + 2);
    expect(validatePolicies("permit (principal, action", CEDAR_SCHEMA).errors[0]!.message).toBeTruthy();
    expect(checkPolicies(`permit (principal, action, resource is Gatehouse::Console);`, CEDAR_SCHEMA).errors[0]!.message).toMatch(/no @id/);
    // The annotation as Cedar reads it: not one in a comment, and with a space before its value too.
    expect(checkPolicies(`permit (principal, action, resource is Gatehouse::Console) when { true // @id("admins-run-the-console")
};`, CEDAR_SCHEMA).errors[0]!.message).toMatch(/no @id/);
    expect(policyIds(`@id ("spaced")\npermit (principal, action, resource);`)).toEqual(["spaced"]);
    expect(checkPolicies(`@id("")\npermit (principal, action, resource is Gatehouse::Console);`, CEDAR_SCHEMA).errors[0]!.message).toMatch(/no @id/);
    expect(formatPolicies("permit(principal,action,resource);")).toEqual({ ok: true, text: "permit (principal, action, resource);" });
  });

  it("a policy about people at sign-in can leave an app's refreshes alone (context.via)", () => {
    const trustedDevicesOnly = `${DEFAULT_POLICIES}\n@id("tokens-on-trusted-devices")\nforbid (principal is Gatehouse::User, action == Gatehouse::Action::"issueToken", resource)\nunless { context.deviceTrusted || context.via == "refresh" };`;
    preparse("unit", trustedDevicesOnly);
    const user = subject(["user"]);
    expect(decide("unit", tokenRequest(user, { id: "app", name: "App" }, NOON)).decision).toBe("deny");
    expect(decide("unit", tokenRequest({ ...user, deviceTrusted: true }, { id: "app", name: "App" }, NOON)).decision).toBe("allow");
    expect(decide("unit", tokenRequest(user, { id: "app", name: "App" }, NOON, "refresh")).decision).toBe("allow");
  });

  it("a client is judged by the name the console shows (Client.name), not only by its id", () => {
    preparse("unit", `${DEFAULT_POLICIES}\n@id("no-payroll-tokens")\nforbid (principal, action == Gatehouse::Action::"issueToken", resource) when { resource.name == "Payroll" };`);
    const payroll = { id: "c-7f3a", name: "Payroll" };
    expect(decide("unit", tokenRequest(subject(["user"]), payroll, NOON))).toMatchObject({ decision: "deny", policies: ["no-payroll-tokens"] });
    expect(decide("unit", clientTokenRequest(payroll, null, NOON))).toMatchObject({ decision: "deny", policies: ["no-payroll-tokens"] });
    expect(decide("unit", tokenRequest(subject(["user"]), { id: "c-1", name: "Wiki" }, NOON)).decision).toBe("allow");
  });

  it("office hours in the organisation's time zone (GATEHOUSE_TIME_ZONE), daylight saving time included", () => {
    expect(localHourAndDay(new Date("2026-07-01T06:30:00Z"), "Europe/Berlin")).toEqual({ hour: 8, dayOfWeek: 3 });
    expect(localHourAndDay(new Date("2026-01-15T06:30:00Z"), "Europe/Berlin")).toEqual({ hour: 7, dayOfWeek: 4 });
    // Sunday evening in New York is Monday morning in UTC.
    expect(localHourAndDay(new Date("2026-03-02T03:30:00Z"), "America/New_York")).toEqual({ hour: 22, dayOfWeek: 0 });
    expect(localHourAndDay(new Date("2026-03-02T00:00:00Z"), "UTC")).toEqual({ hour: 0, dayOfWeek: 1 });
    expect(() => readConfig({ ...process.env, GATEHOUSE_TIME_ZONE: "Mars/Olympus_Mons" })).toThrow(/IANA time zone/);

    const officeHours = `${DEFAULT_POLICIES}\n@id("berlin-office-hours")\nforbid (principal, action == Gatehouse::Action::"manage", resource) unless { context.hour >= 8 && context.hour < 20 };`;
    const before = process.env.GATEHOUSE_TIME_ZONE;
    process.env.GATEHOUSE_TIME_ZONE = "Europe/Berlin";
    try {
      expect(decideWith(officeHours, subject(["admin"]), "users", "manage", new Date("2026-07-01T06:31:00Z")).decision).toBe("allow");
      expect(decideWith(officeHours, subject(["admin"]), "users", "manage", new Date("2026-07-01T05:47:00Z"))).toMatchObject({ decision: "deny", policies: ["berlin-office-hours"] });
      expect(decideWith(officeHours, subject(["admin"]), "users", "manage", new Date("2026-01-15T06:31:00Z")).decision).toBe("deny");
    } finally {
      if (before === undefined) delete process.env.GATEHOUSE_TIME_ZONE;
      else process.env.GATEHOUSE_TIME_ZONE = before;
    }
  });
});
