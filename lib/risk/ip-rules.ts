import "server-only";
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { db, type Prisma } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { parseNetwork } from "../http/client-ip";

// Admin-managed block and allow lists (later also written by incident playbooks). The assessment
// reads the rules in force on every attempt (lib/risk/assess.ts), so a block takes effect on every
// instance at once; the list is small (people and playbooks write it), so matching is a scan.

export const IP_RULE_KINDS = ["block", "allow"] as const;
export type IpRuleKind = (typeof IP_RULE_KINDS)[number];

/** "203.0.113.7" or "203.0.113.0/24" (IPv4 or IPv6), stored in canonical form. */
export const cidrSchema = z
  .string()
  .trim()
  .max(64)
  .transform((v, ctx) => {
    const parsed = parseNetwork(v);
    if (parsed) return `${parsed.network}/${parsed.bits}`;
    ctx.addIssue({ code: "custom", message: "Enter an IP address or a CIDR range such as 203.0.113.0/24." });
    return z.NEVER;
  });

export const newIpRuleSchema = z.object({
  cidr: cidrSchema,
  kind: z.enum(IP_RULE_KINDS),
  note: z.string().trim().min(1, "Say why, for the next admin.").max(200),
  /** 0 or absent: until removed. */
  hours: z.coerce.number().int().min(0).max(24 * 365).optional(),
});

export type IpRuleRow = { id: string; cidr: string; kind: string; note: string };
type ParsedRule = IpRuleRow & { kind: IpRuleKind; range: [ipaddr.IPv4 | ipaddr.IPv6, number] };

export type IpRuleMatch = { block: ParsedRule | null; allow: ParsedRule | null };

/** Which of the rules in force cover this address. A block wins over an allow (see the risk score). */
export function matchIpRules(ip: string | null, rules: readonly IpRuleRow[]): IpRuleMatch {
  if (!ip || !ipaddr.isValid(ip)) return { block: null, allow: null };
  let address = ipaddr.parse(ip);
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  const covering = rules
    .map((r) => ({ ...r, kind: r.kind as IpRuleKind, range: ipaddr.parseCIDR(r.cidr) }))
    .filter(({ range: [net, bits] }) => net.kind() === address.kind() && address.match(net, bits));
  return { block: covering.find((r) => r.kind === "block") ?? null, allow: covering.find((r) => r.kind === "allow") ?? null };
}

/** The allow rule that overlaps this range (either holds the other), if any: a block there would override the allow. */
export function allowRuleOverlapping(cidr: string, rules: readonly IpRuleRow[]): IpRuleRow | null {
  const [network, bits] = ipaddr.parseCIDR(cidr);
  return rules.find((rule) => {
    if (rule.kind !== "allow") return false;
    const [allowed, allowedBits] = ipaddr.parseCIDR(rule.cidr);
    return allowed.kind() === network.kind() && (network.match(allowed, allowedBits) || allowed.match(network, bits));
  }) ?? null;
}

/** Every allow rule in force (not only the newest the lists show): few, and an office's must never be missed. */
export function allowRulesInForce(now = new Date()) {
  return db().ipRule.findMany({ where: { kind: "allow", OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } });
}

/** How many rules the list shows at once (newest first); a search finds any of the rest. */
export const IP_RULES_SHOWN = 500;

/** The rules in force, newest first (at most IP_RULES_SHOWN), those whose range or reason contain `search`, and how many match in all. */
export async function listIpRules(search?: string, now = new Date()) {
  const where: Prisma.IpRuleWhereInput = {
    OR: [{ expiresAt: null }, { expiresAt: { gt: now } }],
    ...(search ? { AND: [{ OR: [{ cidr: { contains: search } }, { note: { contains: search, mode: "insensitive" } }] }] } : {}),
  };
  const [rules, total] = await Promise.all([db().ipRule.findMany({ where, orderBy: { createdAt: "desc" }, take: IP_RULES_SHOWN }), db().ipRule.count({ where })]);
  return { rules, total };
}

/** The block rules in force for exactly these ranges, however many rules there are. */
export function blockRulesFor(cidrs: readonly string[], now = new Date()) {
  return db().ipRule.findMany({ where: { kind: "block", cidr: { in: [...cidrs] }, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } });
}

// A block wider than this shuts out whole providers, or everyone (0.0.0.0/0): a slip or an attack
// on availability, never the answer to an attacker. An allow lifts the per-address defences
// (failures per IP, the source block): a company's private network (10.0.0.0/8) fits, the
// Internet (0.0.0.0/1) does not.
const WIDEST_RULE_BITS = { block: { ipv4: 16, ipv6: 32 }, allow: { ipv4: 8, ipv6: 32 } } as const;

export class IpRuleRefusedError extends Error {}

/** Why this rule may not be added, if it may not: too wide, or a block covering the address of whoever adds it. */
function ruleRefusal(kind: IpRuleKind, cidr: string, ownIp: string | null | undefined): string | null {
  const [network, bits] = ipaddr.parseCIDR(cidr);
  const widest = WIDEST_RULE_BITS[kind][network.kind()];
  const family = network.kind() === "ipv4" ? "IPv4" : "IPv6";
  if (bits < widest && kind === "block") return `A block this wide would shut out whole networks: block at most a /${widest} (${family}).`;
  if (bits < widest) return `An allow rule this wide would lift the per-address defences for whole networks: allow at most a /${widest} (${family}).`;
  if (kind === "block" && matchIpRules(ownIp ?? null, [{ id: "", cidr, kind: "block", note: "" }]).block) return `This would block your own address (${ownIp}).`;
  return null;
}

/** Adds a rule; throws IpRuleRefusedError for one that is too wide, or a block covering the caller's own address. */
export async function addIpRule(input: z.infer<typeof newIpRuleSchema>, ctx: AuditContext, now = new Date()) {
  const refusal = ruleRefusal(input.kind, input.cidr, ctx.client?.ip);
  if (refusal) throw new IpRuleRefusedError(refusal);
  const expiresAt = input.hours ? new Date(now.getTime() + input.hours * 3_600_000) : null;
  const rule = await db().ipRule.create({
    data: { cidr: input.cidr, kind: input.kind, note: input.note, expiresAt, createdBy: ctx.actor.type === "user" ? ctx.actor.id : null },
  });
  await audit(ctx, {
    type: "security", action: `ip_rule.${input.kind}`, outcome: "success", resource: { type: "ip_rule", id: rule.id },
    metadata: { cidr: rule.cidr, note: rule.note, expiresAt: expiresAt?.toISOString() ?? null },
  });
  return rule;
}

/** A rule's list ("block" or "allow"), or null if there is no such rule. */
export async function ipRuleKind(id: string): Promise<string | null> {
  return (await db().ipRule.findUnique({ where: { id }, select: { kind: true } }))?.kind ?? null;
}

export async function removeIpRule(id: string, ctx: AuditContext): Promise<boolean> {
  const rule = await db().ipRule.findUnique({ where: { id } });
  // Two removals at once (a double click): the second finds nothing left to delete.
  if (!rule || (await db().ipRule.deleteMany({ where: { id } })).count === 0) return false;
  await audit(ctx, {
    type: "security", action: "ip_rule.remove", outcome: "success", resource: { type: "ip_rule", id },
    metadata: { cidr: rule.cidr, kind: rule.kind, note: rule.note },
  });
  return true;
}
