// Synthetic but realistic audit events for the benchmark, from a seeded PRNG (same data every
// run). Skewed like a real identity provider: most events are sign-ins and token traffic by a
// minority of very active users; incidents and compliance events are rare. The same pools feed
// the search benchmark, so its filters hit values that exist (common ones and rare ones).
import type { AuditEventInput } from "../lib/audit/events";

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    /** Zipf-like: index 0 is the most frequent, the tail is long. */
    skewed: (n: number, s = 1.1) => Math.min(n - 1, Math.floor(n * Math.pow(next(), 1 + s * 2))),
    weighted: <T>(table: readonly (readonly [T, number])[]): T => {
      let r = next() * table.reduce((sum, [, w]) => sum + w, 0);
      for (const [value, w] of table) if ((r -= w) < 0) return value;
      return table.at(-1)![0];
    },
  };
}
export type Rng = ReturnType<typeof rng>;

const hex = (r: Rng, n: number) => Array.from({ length: n }, () => "0123456789abcdef"[r.int(16)]).join("");
const uuid = (r: Rng) => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-${"89ab"[r.int(4)]}${hex(r, 3)}-${hex(r, 12)}`;

const FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yusuf", "zoe", "amara", "bilal", "chen", "dmitri", "elif", "farah", "giulia", "hana", "ingrid"];
const LAST = ["smith", "jones", "garcia", "muller", "rossi", "tanaka", "kowalski", "nguyen", "okafor", "silva", "johansson", "dubois", "novak", "haddad", "kim", "patel", "schmidt", "moreau", "lopez", "ivanova"];
const DOMAINS = ["example.com", "corp.example", "partner.example.org", "example.net"];
const CITIES = ["Berlin, DE", "Paris, FR", "London, GB", "New York, US", "Austin, US", "Toronto, CA", "São Paulo, BR", "Lagos, NG", "Mumbai, IN", "Singapore, SG", "Tokyo, JP", "Sydney, AU", "Warsaw, PL", "Madrid, ES"];
const USER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.1 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 16; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/155.0.0.0 Safari/537.36 Edg/155.0.0.0",
  "curl/8.11.1",
  "python-requests/2.32.3",
  "okhttp/4.12.0",
  "Go-http-client/2.0",
  "PostmanRuntime/7.43.0",
  "gatehouse-cli/0.1.0 node/20.20.2",
];
const CLIENT_NAMES = ["billing-api", "crm-web", "hr-portal", "mobile-app", "analytics", "support-desk", "ci-deployer", "wiki", "payroll", "warehouse", "vpn-gateway", "grafana", "intranet", "sales-dashboard", "docs"];
const SCOPES = ["openid", "profile", "email", "offline_access", "read:invoices", "write:invoices", "admin", "read:reports"];
const ROLES = ["admin", "auditor", "operator", "member", "support"];
const FAILURE_REASONS = ["invalid_password", "unknown_user", "expired_code", "invalid_signature", "replayed_token", "disabled_account", "invalid_grant", "consent_denied"];
const POLICIES = ["mfa-required", "geo-fence", "device-trust", "risk-step-up", "admin-hours", "break-glass"];

type Kind = { type: AuditEventInput["type"]; action: string; resource: string | null };
// type, action, resource type, weight (per mille, roughly)
const KINDS: readonly (readonly [Kind, number])[] = [
  [{ type: "authentication", action: "auth.sign_in", resource: "session" }, 300],
  [{ type: "authentication", action: "auth.sign_out", resource: "session" }, 40],
  [{ type: "authentication", action: "password.change", resource: "user" }, 6],
  [{ type: "authentication", action: "password.reset", resource: "user" }, 4],
  [{ type: "token", action: "token.issue", resource: "token" }, 130],
  [{ type: "token", action: "token.refresh", resource: "token" }, 110],
  [{ type: "token", action: "token.revoke", resource: "token" }, 8],
  [{ type: "token", action: "token.introspect", resource: "token" }, 20],
  [{ type: "session", action: "session.extend", resource: "session" }, 70],
  [{ type: "session", action: "session.revoke", resource: "session" }, 12],
  [{ type: "session", action: "session.sign_out", resource: "session" }, 30],
  [{ type: "session", action: "session.revoke_all", resource: "user" }, 2],
  [{ type: "mfa", action: "mfa.totp.verify", resource: "user" }, 60],
  [{ type: "mfa", action: "mfa.webauthn.verify", resource: "user" }, 35],
  [{ type: "mfa", action: "mfa.enroll", resource: "user" }, 3],
  [{ type: "mfa", action: "mfa.recovery_code.use", resource: "user" }, 1],
  [{ type: "policy", action: "policy.evaluate", resource: "policy" }, 80],
  [{ type: "policy", action: "policy.update", resource: "policy" }, 1],
  [{ type: "consent", action: "consent.grant", resource: "client" }, 22],
  [{ type: "consent", action: "consent.revoke", resource: "client" }, 3],
  [{ type: "admin", action: "user.create", resource: "user" }, 6],
  [{ type: "admin", action: "user.roles.update", resource: "user" }, 8],
  [{ type: "admin", action: "user.disable", resource: "user" }, 2],
  [{ type: "admin", action: "user.profile.update", resource: "user" }, 6],
  [{ type: "admin", action: "client.secret.rotate", resource: "client" }, 1],
  [{ type: "security", action: "account.lockout", resource: "user" }, 6],
  [{ type: "security", action: "risk.step_up", resource: "user" }, 12],
  [{ type: "security", action: "audit.chain.verify", resource: null }, 0.5],
  [{ type: "incident", action: "incident.open", resource: "incident" }, 0.6],
  [{ type: "incident", action: "incident.resolve", resource: "incident" }, 0.5],
  [{ type: "compliance", action: "retention.purge", resource: null }, 0.2],
  [{ type: "compliance", action: "report.generate", resource: "report" }, 0.8],
  [{ type: "export", action: "audit.export", resource: "audit_export" }, 1.4],
];

const OUTCOMES = [["success", 85], ["failure", 10], ["blocked", 4], ["requires_approval", 1]] as const;

export type Pools = ReturnType<typeof makePools>;

/** The population events are drawn from: users, clients, their IPs, resource ids. */
export function makePools(seed = 42, users = 20_000) {
  const r = rng(seed);
  const userList = Array.from({ length: users }, (_, i) => {
    const label = `${r.pick(FIRST)}.${r.pick(LAST)}${i}@${r.pick(DOMAINS)}`;
    const v4 = () => `${[10, 81, 145, 172, 185, 203, 62, 94][r.int(8)]}.${r.int(256)}.${r.int(256)}.${1 + r.int(254)}`;
    const v6 = () => `2001:db8:${hex(r, 4)}:${hex(r, 4)}::${hex(r, 3)}`;
    const ips = Array.from({ length: 1 + r.int(3) }, () => (r.next() < 0.85 ? v4() : v6()));
    return { id: uuid(r), label, ips, userAgent: r.pick(USER_AGENTS), device: `dev-${hex(r, 10)}`, location: r.pick(CITIES) };
  });
  const clients = CLIENT_NAMES.flatMap((name) =>
    Array.from({ length: 4 }, (_, i) => ({ id: uuid(r), label: `${name}${i ? `-${i}` : ""}`, ip: `10.${r.int(256)}.${r.int(256)}.${1 + r.int(254)}` })),
  );
  const policies = POLICIES.map((name) => ({ id: uuid(r), name }));
  const incidents = Array.from({ length: 300 }, (_, i) => `INC-${1000 + i}`);
  return { userList, clients, policies, incidents };
}

/** Draws events; `seed` chooses the stream, so writers can each have their own. */
export function eventSource(pools: Pools, seed: number) {
  const r = rng(seed);
  const { userList, clients, policies, incidents } = pools;

  const resourceId = (type: string, user: (typeof userList)[number] | null): string | null => {
    switch (type) {
      case "user": return user ? user.id : r.pick(userList).id;
      case "client": return r.pick(clients).id;
      case "policy": return r.pick(policies).id;
      case "incident": return r.pick(incidents);
      case "session": return `ses_${hex(r, 20)}`;
      case "token": return `tok_${hex(r, 20)}`;
      case "report": return `rep_${hex(r, 8)}`;
      default: return uuid(r);
    }
  };

  return function next(): AuditEventInput {
    const kind = r.weighted(KINDS);
    let outcome: AuditEventInput["outcome"] = r.weighted(OUTCOMES);
    if (kind.type === "compliance" || kind.type === "export" || kind.type === "incident") outcome = "success";
    const actorRoll = r.next();
    const user = actorRoll < 0.82 || kind.type === "mfa" || kind.type === "authentication" ? userList[r.skewed(userList.length)]! : null;
    const client = !user && actorRoll < 0.96 ? r.pick(clients) : null;
    const actor: AuditEventInput["actor"] = user
      ? { type: "user", id: outcome === "failure" && kind.action === "auth.sign_in" && r.next() < 0.3 ? null : user.id, label: user.label }
      : client
        ? { type: "client", id: client.id, label: client.label }
        : { type: "system", id: null, label: "gatehouse" };

    const metadata: Record<string, Json> = { requestId: uuid(r) };
    if (kind.type === "authentication" || kind.type === "mfa") metadata.method = kind.type === "mfa" ? kind.action.split(".")[1]! : r.pick(["password", "password", "passkey", "sso"]);
    if (outcome === "failure") metadata.reason = r.pick(FAILURE_REASONS);
    if (outcome === "blocked") metadata.reason = r.pick(["throttled", "risk_too_high", "ip_denylisted", "account_locked"]);
    if (kind.type === "token") Object.assign(metadata, { clientId: r.pick(clients).label, scopes: SCOPES.filter(() => r.next() < 0.35), grant: r.pick(["authorization_code", "refresh_token", "client_credentials"]) });
    if (kind.type === "consent") metadata.scopes = SCOPES.filter(() => r.next() < 0.4);
    if (kind.action === "user.roles.update") Object.assign(metadata, { granted: [r.pick(ROLES)], revoked: r.next() < 0.3 ? [r.pick(ROLES)] : [], note: r.pick(["quarterly review", "onboarding", "offboarding", "ticket approved"]) });
    if (kind.type === "incident") Object.assign(metadata, { severity: r.pick(["low", "medium", "high", "critical"]), summary: r.pick(["credential stuffing from botnet", "suspicious token reuse", "impossible travel detected", "brute force on admin account"]) });
    if (kind.type === "export") Object.assign(metadata, { format: r.pick(["csv", "jsonl"]), rowCount: r.int(100_000) });
    if (kind.type === "policy") metadata.latencyMicros = 50 + r.int(400);

    const withClient = actor.type !== "system";
    return {
      type: kind.type,
      action: kind.action,
      outcome,
      actor,
      resource: kind.resource ? { type: kind.resource, id: resourceId(kind.resource, user) } : null,
      client: withClient
        ? {
            ip: user ? r.pick(user.ips) : client!.ip,
            userAgent: user ? (r.next() < 0.9 ? user.userAgent : r.pick(USER_AGENTS)) : "okhttp/4.12.0",
            deviceId: user ? user.device : null,
            location: user ? user.location : null,
          }
        : null,
      riskScore: kind.type === "authentication" || kind.type === "mfa" || kind.type === "security" ? Math.round(r.next() * 1000) / 1000 : null,
      policyDecisions: kind.type === "policy" || (kind.action === "auth.sign_in" && r.next() < 0.3)
        ? [{ policy: r.pick(policies).name, effect: outcome === "blocked" ? "deny" : "allow" }]
        : null,
      metadata,
    };
  };
}

export const FREE_TEXT_TERMS = {
  // roughly how often each appears in search vectors (action, actor, resource, location, metadata)
  common: ["password", "sign_in", "openid", "refresh_token", "berlin"],
  medium: ["passkey", "webauthn", "invalid_password", "throttled", "onboarding", "billing-api-2"],
  rare: ["quarterly review", "credential stuffing", "impossible travel", "INC-1042", "break-glass", "retention"],
};
export const KIND_LIST = KINDS.map(([k]) => k);
