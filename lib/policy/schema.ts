// Gatehouse's Cedar schema, its built-in policies and the editor's templates. Pure data, not
// "server-only": the editor shows the schema and the templates.

/** The console's sections, as Cedar resources `Gatehouse::Console::"<id>"`. */
export const CONSOLE_SECTIONS = ["users", "clients", "keys", "policies", "risk", "incidents", "audit", "compliance"] as const;
export type ConsoleSection = (typeof CONSOLE_SECTIONS)[number];
/** `view` reads a section; `manage` changes something in it. */
export const CONSOLE_ACTIONS = ["view", "manage"] as const;
export type ConsoleAction = (typeof CONSOLE_ACTIONS)[number];

export const CEDAR_SCHEMA = `namespace Gatehouse {
  // Roles and groups are parents of users: "principal in Gatehouse::Role::\\"admin\\"".
  entity Role;
  entity Group;
  entity User in [Role, Group] = {
    email: String,
  };
  // OAuth clients, as principals (machine clients) and as the resource of token issuance.
  entity Client = {
    name: String,
  };
  // A section of the admin console: users, clients, keys, policies, risk, incidents, audit, compliance.
  entity Console;
  // A resource of another service that asks the decision point (POST /api/v1/authorize).
  entity Resource = {
    kind: String,
    owner?: User,
  };

  type RequestContext = {
    // Seconds since 1970 (UTC), and the UTC hour (0–23) and weekday (0 = Sunday).
    now: Long,
    hourUtc: Long,
    dayOfWeekUtc: Long,
    // The hour and weekday in the organisation's time zone (GATEHOUSE_TIME_ZONE; UTC unless set),
    // daylight saving time included: "office hours" that stay office hours all year.
    hour: Long,
    dayOfWeek: Long,
    // 0.0.0.0 when unknown.
    ip: ipaddr,
    // Where the request comes from: the ISO 3166-1 alpha-2 code of the IP address's country
    // ("DE"), from the GeoIP database; "" when unknown (a private or unlisted address).
    country: String,
    // The sign-in's risk score (lib/risk), 0.0–1.0.
    risk: decimal,
    // "password", "mfa" or "phishing_resistant" (passkey).
    authStrength: String,
    // A second factor verified in the last 5 minutes (step-up).
    mfaFresh: Bool,
    deviceTrusted: Bool,
    // How the request came: "interactive" (a person in the console or signing in to an app),
    // "refresh" (an app refreshing a user's tokens: no risk score, no fresh MFA, no device),
    // "client_credentials" (a machine client's own token) or "service" (the decision point API).
    via: String,
  };

  action view, manage appliesTo {
    principal: [User],
    resource: [Console],
    context: RequestContext,
  };
  action issueToken appliesTo {
    principal: [User, Client],
    resource: [Client],
    context: RequestContext,
  };
  action access appliesTo {
    principal: [User, Client],
    resource: [Resource],
    context: RequestContext,
  };
}
`;

/** Gatehouse's built-in roles, as policies. A fresh install starts with exactly these. */
export const DEFAULT_POLICIES = `// Built-in roles. Edit with care: the publish is refused if no admin could reach this editor any more.

@id("admins-run-the-console")
permit (
  principal in Gatehouse::Role::"admin",
  action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"],
  resource is Gatehouse::Console
);

@id("analysts-handle-risk-and-incidents")
permit (
  principal in Gatehouse::Role::"analyst",
  action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"],
  resource is Gatehouse::Console
) when { resource in [Gatehouse::Console::"risk", Gatehouse::Console::"incidents"] };

@id("auditors-read-audit-and-compliance")
permit (
  principal in Gatehouse::Role::"auditor",
  action == Gatehouse::Action::"view",
  resource is Gatehouse::Console
) when { resource in [Gatehouse::Console::"audit", Gatehouse::Console::"compliance"] };

@id("users-get-tokens")
permit (
  principal is Gatehouse::User,
  action == Gatehouse::Action::"issueToken",
  resource is Gatehouse::Client
);

@id("machine-clients-get-tokens")
permit (
  principal is Gatehouse::Client,
  action == Gatehouse::Action::"issueToken",
  resource
) when { principal == resource };
`;

export const POLICY_TEMPLATES: { id: string; label: string; text: string }[] = [
  {
    id: "role",
    label: "Role-based access",
    text: `@id("analysts-view-audit")
permit (
  principal in Gatehouse::Role::"analyst",
  action == Gatehouse::Action::"view",
  resource == Gatehouse::Console::"audit"
);`,
  },
  {
    id: "group",
    label: "Group",
    text: `@id("secops-handles-incidents")
permit (
  principal in Gatehouse::Group::"secops",
  action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"],
  resource == Gatehouse::Console::"incidents"
);`,
  },
  {
    id: "time-window",
    label: "Time window",
    text: `// Office hours in GATEHOUSE_TIME_ZONE (context.hourUtc for UTC).
@id("policy-edits-in-office-hours")
forbid (
  principal,
  action == Gatehouse::Action::"manage",
  resource == Gatehouse::Console::"policies"
) unless { context.hour >= 8 && context.hour < 20 };`,
  },
  {
    id: "risk-ceiling",
    label: "Risk ceiling",
    text: `@id("no-tokens-for-risky-sessions")
forbid (
  principal,
  action == Gatehouse::Action::"issueToken",
  resource
) when { context.risk.greaterThanOrEqual(decimal("0.7")) };`,
  },
  {
    id: "ip-range",
    label: "IP range",
    text: `@id("deny-documentation-network")
forbid (principal, action, resource)
when { context.ip.isInRange(ip("203.0.113.0/24")) };`,
  },
  {
    id: "country",
    label: "Countries",
    text: `// The console only from these countries (context.country: ISO 3166-1 alpha-2), or from your
// own network: a private address is in no country (context.country is "" there).
@id("console-from-home-countries")
forbid (
  principal,
  action in [Gatehouse::Action::"view", Gatehouse::Action::"manage"],
  resource is Gatehouse::Console
) unless {
  ["DE", "FR", "NL"].contains(context.country) ||
  context.ip.isInRange(ip("10.0.0.0/8")) || context.ip.isInRange(ip("172.16.0.0/12")) || context.ip.isInRange(ip("192.168.0.0/16"))
};`,
  },
  {
    id: "auth-strength",
    label: "Required authentication strength",
    text: `@id("incidents-need-a-passkey")
forbid (
  principal in Gatehouse::Role::"analyst",
  action == Gatehouse::Action::"manage",
  resource == Gatehouse::Console::"incidents"
) unless { context.authStrength == "phishing_resistant" };`,
  },
];
