// Roles and the console's sections. Pure data. Who may reach which section is decided by the
// Cedar policies (lib/policy; the built-in ones grant what ROLE_DESCRIPTIONS says).
import type { ConsoleSection } from "../policy/schema";

export const ROLES = ["user", "admin", "analyst", "auditor"] as const;
export type RoleName = (typeof ROLES)[number];
/** The roles beyond signing in: console roles. */
export const ELEVATED_ROLES = ROLES.filter((role) => role !== "user");

export const ROLE_DESCRIPTIONS: Record<RoleName, string> = {
  user: "Signs in and manages their own account.",
  admin: "Runs Gatehouse: users, clients, keys, policies and everything below.",
  analyst: "Watches login risk and handles security incidents.",
  auditor: "Reads and exports the audit trail and compliance status; nothing else.",
};

export type AdminSection = {
  /** The Cedar resource Gatehouse::Console::"<id>": who may open it is the policies' to say (lib/policy). */
  id: ConsoleSection;
  href: string;
  label: string;
  summary: string;
};

export const ADMIN_SECTIONS: readonly AdminSection[] = [
  { id: "users", href: "/admin/users", label: "Users", summary: "Accounts, roles and sessions." },
  { id: "clients", href: "/admin/clients", label: "Clients", summary: "OAuth 2.1 / OpenID Connect clients and their grants." },
  { id: "keys", href: "/admin/keys", label: "Keys", summary: "The provider's signing keys and their rotation." },
  { id: "policies", href: "/admin/policies", label: "Policies", summary: "Cedar authorization policies, versions and the simulator." },
  { id: "risk", href: "/admin/risk", label: "Risk", summary: "Sign-in risk scores, signals and baselines." },
  { id: "incidents", href: "/admin/incidents", label: "Incidents", summary: "Alerts, incidents and automated response playbooks." },
  { id: "audit", href: "/admin/audit", label: "Audit", summary: "The tamper-evident audit trail: search, verify, export." },
  { id: "compliance", href: "/admin/compliance", label: "Compliance", summary: "SOC 2 controls, automated tests and evidence." },
];

export function sectionFor(id: ConsoleSection): AdminSection {
  return ADMIN_SECTIONS.find((s) => s.id === id)!;
}
