import "server-only";
import { z } from "zod";
import { db, isUniqueViolation, type Prisma } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { INCIDENT_TYPES, SEVERITIES, severityRank, type IncidentType, type Severity } from "./model";
import { checkbox } from "./rules";
import { ADMINS_CHANNEL } from "./channels";

// Playbooks: a trigger (incident type, minimum severity) and ordered steps. Every save is a new
// version (author, comment); the newest is in force. Steps say what to do to the incident's
// affected users and indicators; `critical` steps stop the run when they fail.

const critical = z.boolean().default(false);
export const stepSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("revoke_tokens"), critical }).strict(),
  z.object({ kind: z.literal("terminate_sessions"), critical }).strict(),
  z.object({ kind: z.literal("block_ip"), critical, scope: z.enum(["ip", "network"]).default("ip"), hours: z.number().int().min(1).max(24 * 365) }).strict(),
  z.object({ kind: z.literal("lock_accounts"), critical, minutes: z.number().int().min(1).max(60 * 24 * 30) }).strict(),
  z.object({ kind: z.literal("require_password_reset"), critical }).strict(),
  z.object({ kind: z.literal("require_mfa_reenrollment"), critical }).strict(),
  z.object({ kind: z.literal("notify"), critical, channel: z.string().min(1).max(60) }).strict(),
  z.object({ kind: z.literal("escalate"), critical, assignee: z.email().max(254), channel: z.string().min(1).max(60).optional() }).strict(),
]);
export type Step = z.infer<typeof stepSchema>;


export const playbookInputSchema = z.object({
  name: z.string().trim().min(1, "Name the playbook.").max(80),
  enabled: checkbox(false),
  triggerType: z.enum(INCIDENT_TYPES),
  minSeverity: z.enum(SEVERITIES),
  steps: z.array(stepSchema).min(1, "Add at least one step.").max(20),
  comment: z.string().trim().min(1, "Say what changed and why.").max(500),
});
export type PlaybookInput = z.infer<typeof playbookInputSchema>;

/** The steps as an admin types them (JSON), with errors that point at the step. */
export function parseSteps(text: string): { ok: true; steps: Step[] } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `Steps are not valid JSON: ${error instanceof Error ? error.message : "parse error"}` };
  }
  const parsed = z.array(stepSchema).min(1).max(20).safeParse(raw);
  if (parsed.success) return { ok: true, steps: parsed.data };
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? `step ${Number(issue.path[0]) + 1}${issue.path.length > 1 ? ` (${issue.path.slice(1).join(".")})` : ""}: ` : "";
  return { ok: false, error: `${where}${issue.message}` };
}

export type PlaybookView = {
  id: string; name: string; version: number; enabled: boolean; triggerType: IncidentType; minSeverity: Severity;
  steps: Step[]; comment: string; authorId: string | null; updatedAt: Date;
};

function view(p: { id: string; name: string }, v: { version: number; enabled: boolean; triggerType: string; minSeverity: string; steps: Prisma.JsonValue; comment: string; authorId: string | null; createdAt: Date }): PlaybookView {
  return {
    id: p.id, name: p.name, version: v.version, enabled: v.enabled, triggerType: v.triggerType as IncidentType, minSeverity: v.minSeverity as Severity,
    steps: z.array(stepSchema).parse(v.steps), comment: v.comment, authorId: v.authorId, updatedAt: v.createdAt,
  };
}

export async function listPlaybooks(): Promise<PlaybookView[]> {
  const playbooks = await db().playbook.findMany({ orderBy: { name: "asc" }, include: { versions: { orderBy: { version: "desc" }, take: 1 } } });
  return playbooks.filter((p) => p.versions[0]).map((p) => view(p, p.versions[0]!));
}

export async function findPlaybook(id: string) {
  const playbook = await db().playbook.findUnique({ where: { id }, include: { versions: { orderBy: { version: "desc" } } } });
  if (!playbook?.versions[0]) return null;
  return { current: view(playbook, playbook.versions[0]), versions: playbook.versions.map((v) => view(playbook, v)) };
}

export async function playbookVersion(id: string, version: number): Promise<PlaybookView | null> {
  const v = await db().playbookVersion.findUnique({ where: { playbookId_version: { playbookId: id, version } }, include: { playbook: true } });
  return v ? view(v.playbook, v) : null;
}

/** How many playbooks are in force (their newest version is enabled). */
export async function countPlaybooksInForce(): Promise<number> {
  const newest = await db().playbookVersion.findMany({ distinct: ["playbookId"], orderBy: [{ playbookId: "asc" }, { version: "desc" }], select: { enabled: true } });
  return newest.filter((v) => v.enabled).length;
}

/** Every version saved by someone (built-in ones left out) with its author and comment: are changes attributed (SOC 2 CC8.1)? */
export function listPlaybookVersionAttribution(): Promise<{ playbookId: string; version: number; authorId: string | null; comment: string }[]> {
  return db().playbookVersion.findMany({ where: { comment: { not: "Built in." } }, select: { playbookId: true, version: true, authorId: true, comment: true } });
}

export class PlaybookNameTakenError extends Error {}

/** Saves a new version (creating the playbook when `id` is absent); audited with the change. Null: no such playbook. */
export async function savePlaybook(id: string | null, input: PlaybookInput, ctx: AuditContext): Promise<PlaybookView | null> {
  const authorId = ctx.actor.type === "user" ? ctx.actor.id ?? null : null;
  const existing = id ? await findPlaybook(id) : null;
  if (id && !existing) return null;
  const sameName = await db().playbook.findUnique({ where: { name: input.name } });
  if (sameName && sameName.id !== id) throw new PlaybookNameTakenError(input.name);
  let playbook, saved;
  try {
    ({ playbook, saved } = await db().$transaction(async (tx) => {
      // The update locks the playbook's row: two saves at once number their versions one after the other.
      const playbook = existing ? await tx.playbook.update({ where: { id: id! }, data: { name: input.name } }) : await tx.playbook.create({ data: { name: input.name } });
      const latest = await tx.playbookVersion.findFirst({ where: { playbookId: playbook.id }, orderBy: { version: "desc" }, select: { version: true } });
      const saved = await tx.playbookVersion.create({
        data: { playbookId: playbook.id, version: (latest?.version ?? 0) + 1, enabled: input.enabled, triggerType: input.triggerType, minSeverity: input.minSeverity, steps: input.steps as Prisma.InputJsonArray, authorId, comment: input.comment },
      });
      return { playbook, saved };
    }));
  } catch (error) {
    // Another playbook took the name meanwhile.
    if (isUniqueViolation(error)) throw new PlaybookNameTakenError(input.name);
    throw error;
  }
  const version = saved.version;
  await audit(ctx, {
    type: "incident", action: "incident.playbook.save", outcome: "success", resource: { type: "playbook", id: playbook.id },
    metadata: { name: input.name, version, comment: input.comment, before: existing ? { enabled: existing.current.enabled, triggerType: existing.current.triggerType, minSeverity: existing.current.minSeverity, steps: existing.current.steps } : null, after: { enabled: input.enabled, triggerType: input.triggerType, minSeverity: input.minSeverity, steps: input.steps } },
  });
  return view(playbook, saved);
}

/** The playbooks in force whose trigger an incident of these types and this severity meets. */
export async function matchingPlaybooks(types: readonly string[], severity: Severity): Promise<PlaybookView[]> {
  return (await listPlaybooks()).filter((p) => p.enabled && types.includes(p.triggerType) && severityRank(severity) >= severityRank(p.minSeverity));
}

// Every built-in playbook tells the admins (by email, the built-in channel), after its containment
// steps: a mail server that stalls (each try waits out its timeout, and a failed step is tried
// three times) must not hold up revoking a stolen token.
const TELL_ADMINS = { kind: "notify", critical: false, channel: ADMINS_CHANNEL } as const;

/** What a fresh installation starts with: sensible responses an admin can edit or switch off. */
export const DEFAULT_PLAYBOOKS: PlaybookInput[] = [
  {
    name: "Credential stuffing: block the source", enabled: true, triggerType: "credential_stuffing", minSeverity: "high",
    steps: [{ kind: "block_ip", critical: true, scope: "ip", hours: 24 }, TELL_ADMINS], comment: "Built in.",
  },
  {
    name: "Stolen refresh token: revoke and sign out", enabled: true, triggerType: "token_theft", minSeverity: "medium",
    steps: [{ kind: "revoke_tokens", critical: true }, { kind: "terminate_sessions", critical: false }, TELL_ADMINS], comment: "Built in.",
  },
  {
    // The user who reported the sign-in is often the one signed in now: their session stays; the
    // reported one has ended already, and analysts end the rest with one click if they must.
    name: "Account takeover: revoke access, new password", enabled: true, triggerType: "account_takeover", minSeverity: "high",
    steps: [{ kind: "revoke_tokens", critical: true }, { kind: "require_password_reset", critical: false }, TELL_ADMINS], comment: "Built in.",
  },
  {
    name: "Cloned passkey: re-enroll factors", enabled: true, triggerType: "passkey_clone", minSeverity: "high",
    steps: [{ kind: "terminate_sessions", critical: true }, { kind: "revoke_tokens", critical: true }, { kind: "require_mfa_reenrollment", critical: false }, TELL_ADMINS], comment: "Built in.",
  },
  {
    // Nothing to undo automatically: the chain is evidence, and who broke it is not known yet.
    name: "Audit trail tampering: tell the admins", enabled: true, triggerType: "audit_tampering", minSeverity: "high",
    steps: [TELL_ADMINS], comment: "Built in.",
  },
  {
    // A role given outside working hours may be an admin working late: told, not undone.
    name: "Privilege escalation: tell the admins", enabled: true, triggerType: "privilege_escalation", minSeverity: "medium",
    steps: [TELL_ADMINS], comment: "Built in.",
  },
];

/** Creates the built-in playbooks once (on the first start of the engine with no playbooks). */
export async function ensureDefaultPlaybooks(ctx: AuditContext): Promise<void> {
  if ((await db().playbook.count()) > 0) return;
  for (const input of DEFAULT_PLAYBOOKS) {
    try {
      await savePlaybook(null, input, ctx);
    } catch (error) {
      // Another instance created it at the same moment.
      if (!(error instanceof PlaybookNameTakenError)) throw error;
    }
  }
}
