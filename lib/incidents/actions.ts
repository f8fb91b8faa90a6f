import "server-only";
import ipaddr from "ipaddr.js";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { endAllSessions } from "../auth/sessions";
import { actingOnRefusal, requirePasswordReset, resetUserMfa, userEmails, type Granter } from "../auth/users";
import { lockAccount } from "../auth/throttle";
import { revokeUserGrants } from "../oidc/consents";
import { addIpRule, allowRuleOverlapping, allowRulesInForce, blockRulesFor, IpRuleRefusedError } from "../risk/ip-rules";
import { mailConfigured } from "../mail";
import { resolveChannel } from "./channels";
import { sendNotification } from "./notify";
import { findResponder } from "./responders";
import type { Step } from "./playbooks";

// The response actions, shared by playbook steps and the analyst's one-click actions. Each one
// is idempotent (doing it twice leaves the same state), so a step retried after a crash is safe.
// A dry run describes what the action would do to these targets and changes nothing.

export type IncidentTargets = {
  incident: { id: string; number: number; title: string; type: string; severity: string; status: string };
  users: { id: string; email: string }[];
  ips: string[];
};

/** The steps that act on the users' accounts (a non-admin responder may act only on some: actingOnRefusal). */
export const ACCOUNT_STEPS: ReadonlySet<string> = new Set(["revoke_tokens", "terminate_sessions", "lock_accounts", "require_password_reset", "require_mfa_reenrollment"]);

/** The targets `responder` may act on the accounts of (actingOnRefusal; refusals audited as `action`), and the emails of those refused. */
export async function usersActedOn(targets: IncidentTargets, responder: Granter, action: string, ctx: AuditContext) {
  const users: IncidentTargets["users"] = [];
  const refused: string[] = [];
  for (const user of targets.users) {
    if (await actingOnRefusal(responder, user.id, action, ctx)) refused.push(user.email);
    else users.push(user);
  }
  return { targets: { ...targets, users }, refused };
}

export type ActionResult = { status: "ok" | "skipped" | "failed"; detail: string; data?: Record<string, unknown> };

/**
 * Whom and what a response acts on: the incident's users and IPs, or, for a playbook run started
 * by an alert (`alertId`), that alert's own user and IP.
 */
export async function incidentTargets(incidentId: string, alertId: string | null = null): Promise<IncidentTargets | null> {
  const incident = await db().incident.findUnique({ where: { id: incidentId }, include: { indicators: true } });
  if (!incident) return null;
  const alert = alertId ? await db().alert.findUnique({ where: { id: alertId }, select: { userId: true, ipAddress: true } }) : null;
  const userIds = alertId ? [alert?.userId].filter((id): id is string => !!id) : incident.indicators.filter((i) => i.kind === "user").map((i) => i.value);
  const ips = alertId ? [alert?.ipAddress].filter((ip): ip is string => !!ip) : incident.indicators.filter((i) => i.kind === "ip").map((i) => i.value);
  const emails = await userEmails(userIds);
  const users = userIds.flatMap((id) => (emails.has(id) ? [{ id, email: emails.get(id)! }] : []));
  return {
    incident: { id: incident.id, number: incident.number, title: incident.title, type: incident.type, severity: incident.severity, status: incident.status },
    users,
    ips,
  };
}

const ref = (t: IncidentTargets) => `INC-${t.incident.number}`;
const emails = (t: IncidentTargets) => t.users.map((u) => u.email).join(", ");

/**
 * The CIDR a block covers: the address itself (an IPv6 address's /64, which its holder can rotate
 * through at will, as per-IP limits count it), or its /24 (IPv4) or /48 (IPv6) network. An alert
 * may name a range already (stuffing counted per /64): the block is never narrower than it.
 */
export function blockRange(ip: string, scope: "ip" | "network"): string {
  const [text, prefix] = ip.split("/");
  const address = ipaddr.process(text!);
  const bits = Math.min(prefix === undefined ? Number.POSITIVE_INFINITY : Number(prefix), address.kind() === "ipv4" ? (scope === "ip" ? 32 : 24) : scope === "ip" ? 64 : 48);
  const network = address.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${bits}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${bits}`);
  return `${network.toString()}/${bits}`;
}

export async function performAction(step: Step, targets: IncidentTargets, ctx: AuditContext, options: { dryRun: boolean; deliveryId: string; reason: string }): Promise<ActionResult> {
  const { dryRun, reason } = options;
  const noUsers = (): ActionResult => ({ status: "skipped", detail: "No affected users on the incident." });
  switch (step.kind) {
    case "revoke_tokens": {
      if (!targets.users.length) return noUsers();
      if (dryRun) return { status: "ok", detail: `Would revoke every grant and token of ${emails(targets)}.` };
      let revoked = 0;
      for (const u of targets.users) revoked += await revokeUserGrants(u.id, ctx);
      return { status: "ok", detail: `Revoked ${revoked} grants and tokens of ${emails(targets)}.`, data: { revoked } };
    }
    case "terminate_sessions": {
      if (!targets.users.length) return noUsers();
      if (dryRun) return { status: "ok", detail: `Would end every session of ${emails(targets)}.` };
      let ended = 0;
      for (const u of targets.users) ended += await endAllSessions(u.id, "incident_response", ctx);
      return { status: "ok", detail: `Ended ${ended} sessions of ${emails(targets)}.`, data: { ended } };
    }
    case "block_ip": {
      if (!targets.ips.length) return { status: "skipped", detail: "No IP indicators on the incident." };
      const ranges = [...new Set(targets.ips.map((ip) => blockRange(ip, step.scope)))];
      // Already blocked for as long (give or take the minutes between two runs of one response): left
      // as it is. A block ending sooner gets a longer one beside it.
      const until = Date.now() + step.hours * 3_600_000 - 5 * 60_000;
      const [rules, allowRules] = await Promise.all([blockRulesFor(ranges), allowRulesInForce()]);
      const inForce = new Set(rules.filter((r) => r.expiresAt === null || r.expiresAt.getTime() >= until).map((r) => r.cidr));
      // An allow rule is an admin's word that an address is shared (an office, a NAT): failures
      // from it are many people's, and a block there (which wins over the allow) would shut them
      // all out. Left to a person, who can block it by hand.
      const allowedBy = new Map(ranges.map((cidr) => [cidr, allowRuleOverlapping(cidr, allowRules)] as const));
      const allowed = [...allowedBy].flatMap(([cidr, rule]) => (rule ? [`${cidr} (allowed by ${rule.cidr}: ${rule.note})`] : []));
      const kept = allowed.length ? ` Not blocked, on the allow list: ${allowed.join("; ")}.` : "";
      const blockable = ranges.filter((cidr) => !allowedBy.get(cidr));
      if (dryRun) return { status: "ok", detail: `${blockable.length ? `Would block ${blockable.join(", ")} for ${step.hours} h.` : ""}${kept}`.trim() };
      if (!blockable.length) return { status: "skipped", detail: kept.trim(), data: { ranges, added: [], allowed } };
      const added = [];
      const refused = [];
      for (const cidr of blockable.filter((r) => !inForce.has(r))) {
        try {
          await addIpRule({ cidr, kind: "block", note: `${ref(targets)}: ${reason}`.slice(0, 200), hours: step.hours }, ctx);
          added.push(cidr);
        } catch (error) {
          // A range covering the responder's own address: the others are still blocked.
          if (!(error instanceof IpRuleRefusedError)) throw error;
          refused.push(`${cidr}: ${error.message}`);
        }
      }
      const blocked = added.length ? `Blocked ${added.join(", ")} for ${step.hours} h.` : refused.length ? "" : `Already blocked: ${blockable.join(", ")}.`;
      if (!refused.length) return { status: "ok", detail: `${blocked}${kept}`, data: { ranges, added, allowed } };
      return { status: "failed", detail: `${blocked} Not blocked: ${refused.join("; ")}${kept}`.trim(), data: { ranges, added, refused, allowed } };
    }
    case "lock_accounts": {
      if (!targets.users.length) return noUsers();
      if (dryRun) return { status: "ok", detail: `Would lock ${emails(targets)} for ${step.minutes} min.` };
      const until = new Date(Date.now() + step.minutes * 60_000);
      for (const u of targets.users) {
        await lockAccount(u, until, ctx);
        // On the user's own trail, as every other lockout is: a search for the account finds it.
        await audit(ctx, { type: "security", action: "account.lockout", outcome: "success", resource: { type: "user", id: u.id }, metadata: { email: u.email, incident: ref(targets), reason, until: until.toISOString() } });
      }
      return { status: "ok", detail: `Locked ${emails(targets)} until ${until.toISOString()}.`, data: { until: until.toISOString() } };
    }
    case "require_password_reset": {
      if (!targets.users.length) return noUsers();
      if (dryRun) return { status: "ok", detail: `Would require ${emails(targets)} to choose a new password at next sign-in.` };
      for (const u of targets.users) await requirePasswordReset(u.id, `${ref(targets)}: ${reason}`, ctx);
      return { status: "ok", detail: `${emails(targets)} must choose a new password at next sign-in.` };
    }
    case "require_mfa_reenrollment": {
      if (!targets.users.length) return noUsers();
      if (dryRun) return { status: "ok", detail: `Would remove the second factors and device trust of ${emails(targets)} and sign them out.` };
      for (const u of targets.users) await resetUserMfa(u.id, `${ref(targets)}: ${reason}`, ctx);
      return { status: "ok", detail: `Removed the second factors of ${emails(targets)} and signed them out; they enroll again at next sign-in.` };
    }
    case "notify":
      return notify(step.channel, targets, options);
    case "escalate": {
      const person = await findResponder(step.assignee);
      if (!person) return { status: "failed", detail: `${step.assignee} is not an active analyst or admin.` };
      if (dryRun) return { status: "ok", detail: `Would assign ${ref(targets)} to ${person.email}${step.channel ? ` and notify ${step.channel}` : ""}.` };
      // A retry (its notification failed) does not assign again: someone may have taken the
      // incident over since. The delivery id is the same on every attempt of the step.
      const incidentId = targets.incident.id;
      const assignedBefore = await db().incidentEvent.count({ where: { incidentId, kind: "assignment", data: { path: ["deliveryId"], equals: options.deliveryId } } });
      if (!assignedBefore) {
        await db().incident.update({ where: { id: incidentId }, data: { assigneeId: person.userId } });
        // A person escalating has taken the incident up (acknowledged it); a playbook has not.
        if (ctx.actor.type === "user") await db().incident.updateMany({ where: { id: incidentId, acknowledgedAt: null }, data: { acknowledgedAt: new Date() } });
        await db().incidentEvent.create({ data: { incidentId, kind: "assignment", text: `Escalated to ${person.email}`, data: { reason, deliveryId: options.deliveryId } } });
        await auditOnIncident(ctx, "incident.assign", targets, { assignee: person.email, reason });
      }
      const assigned = assignedBefore ? `Assigned to ${person.email} by an earlier attempt` : `Assigned to ${person.email}`;
      if (!step.channel) return { status: "ok", detail: `${assigned}.` };
      const sent = await notify(step.channel, targets, options);
      return { ...sent, detail: `${assigned}; ${sent.detail}` };
    }
  }
}

async function notify(channelName: string, targets: IncidentTargets, options: { dryRun: boolean; deliveryId: string; reason: string }): Promise<ActionResult> {
  const channel = await resolveChannel(channelName);
  if (!channel) return { status: "failed", detail: `No notification channel named "${channelName}".` };
  // The built-in playbooks tell the admins on every installation; one without email cannot, and says so.
  if (channel.kind === "email" && channel.builtIn && !mailConfigured()) return { status: "skipped", detail: "Email is not set up (GATEHOUSE_SMTP_URL): the admins were not mailed." };
  if (options.dryRun) return { status: "ok", detail: `Would notify ${channel.kind} ${channel.name}.` };
  const { incident } = targets;
  const subject = `[Gatehouse] ${ref(targets)} ${incident.severity}: ${incident.title}`;
  try {
    const detail = await sendNotification(channel, {
      deliveryId: options.deliveryId, subject,
      text: `${subject}\n\nStatus: ${incident.status}\nAffected users: ${emails(targets) || "none"}\nIPs: ${targets.ips.join(", ") || "none"}\nReason: ${options.reason}\n`,
      payload: { incident: { id: incident.id, number: incident.number, type: incident.type, severity: incident.severity, status: incident.status, title: incident.title }, users: targets.users.map((u) => u.email), ips: targets.ips, reason: options.reason },
    });
    return { status: "ok", detail };
  } catch (error) {
    return { status: "failed", detail: error instanceof Error ? error.message : String(error) };
  }
}

async function auditOnIncident(ctx: AuditContext, action: string, targets: IncidentTargets, metadata: Record<string, string>) {
  await audit(ctx, { type: "incident", action, outcome: "success", resource: { type: "incident", id: targets.incident.id }, metadata: { ...metadata, users: targets.users.map((u) => u.email).join(",") } });
}
