// Roles and what each may reach in the console. Pure data: the navigation, the page guards
// and the access tests all read this one table.
export const ROLES = ["user", "admin", "analyst", "auditor"] as const;
export type RoleName = (typeof ROLES)[number];

export const ROLE_DESCRIPTIONS: Record<RoleName, string> = {
  user: "Signs in and manages their own account.",
  admin: "Runs Gatehouse: users, clients, keys, policies and everything below.",
  analyst: "Watches login risk and handles security incidents.",
  auditor: "Reads and exports the audit trail and compliance status; nothing else.",
};

export type AdminSection = {
  href: string;
  label: string;
  roles: readonly RoleName[];
  /** Which issue builds it; a section without `built` says plainly that it is not there yet. */
  built: boolean;
  summary: string;
};

export const ADMIN_SECTIONS: readonly AdminSection[] = [
  { href: "/admin/users", label: "Users", roles: ["admin"], built: true, summary: "Accounts, roles and sessions." },
  { href: "/admin/clients", label: "Clients", roles: ["admin"], built: true, summary: "OAuth 2.1 / OpenID Connect clients and their grants." },
  { href: "/admin/keys", label: "Keys", roles: ["admin"], built: true, summary: "The provider's signing keys and their rotation." },
  { href: "/admin/policies", label: "Policies", roles: ["admin"], built: false, summary: "Cedar authorization policies, versions and the simulator." },
  { href: "/admin/risk", label: "Risk", roles: ["admin", "analyst"], built: true, summary: "Sign-in risk scores, signals and baselines." },
  { href: "/admin/incidents", label: "Incidents", roles: ["admin", "analyst"], built: false, summary: "Alerts, incidents and automated response playbooks." },
  { href: "/admin/audit", label: "Audit", roles: ["admin", "auditor"], built: true, summary: "The tamper-evident audit trail: search, verify, export." },
  { href: "/admin/compliance", label: "Compliance", roles: ["admin", "auditor"], built: false, summary: "SOC 2 controls, automated tests and evidence." },
];

/** Roles that may enter /admin at all (each section then checks its own). */
export const CONSOLE_ROLES: readonly RoleName[] = ["admin", "analyst", "auditor"];

export function hasAnyRole(held: readonly string[], allowed: readonly RoleName[]): boolean {
  return allowed.some((role) => held.includes(role));
}

export function sectionFor(href: string): AdminSection {
  const section = ADMIN_SECTIONS.find((s) => s.href === href);
  if (!section) throw new Error(`Unknown admin section ${href}`);
  return section;
}
