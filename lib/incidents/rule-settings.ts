import "server-only";
import { z } from "zod";
import { db, type Prisma } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { RULE_KEYS, defaultRuleSetting, ruleSettingSchema, type RuleKey, type RuleSetting, type RuleSettings } from "./rules";
import type { Severity } from "./model";

// The detection rules' settings in force: each rule's newest saved version, else its defaults.
// A save is a new version, never an edit, with its author and a comment (SOC 2 CC8.1), as policies,
// playbooks and risk settings are.

type StoredVersion = { rule: string; version: number; enabled: boolean; severity: string; joinWindowMinutes: number; params: Prisma.JsonValue };

/** The setting a stored version holds, or null if it no longer reads as one (a threshold since renamed, say). */
function storedSetting(rule: RuleKey, row: StoredVersion): RuleSetting | null {
  const parsed = ruleSettingSchema(rule).safeParse({ enabled: row.enabled, severity: row.severity, joinWindowMinutes: row.joinWindowMinutes, params: row.params });
  return parsed.success ? parsed.data : null;
}

const reportedUnreadable = new Set<string>();

/** What a rule's newest version makes of it: the rule's defaults when it has none, or when it cannot be read (logged once). */
function settingOf(rule: RuleKey, row: StoredVersion | undefined): RuleSetting {
  const setting = row ? storedSetting(rule, row) : null;
  if (row && !setting && !reportedUnreadable.has(`${rule}:${row.version}`)) {
    reportedUnreadable.add(`${rule}:${row.version}`);
    console.error(`[incidents] detection rule ${rule} version ${row.version} does not read as a setting; its defaults apply`);
  }
  return setting ?? defaultRuleSetting(rule);
}

export async function ruleSettings(): Promise<RuleSettings> {
  const newest = await db().detectionRuleVersion.findMany({ distinct: ["rule"], orderBy: [{ rule: "asc" }, { version: "desc" }] });
  const byRule = new Map(newest.map((row) => [row.rule, row]));
  return Object.fromEntries(RULE_KEYS.map((rule) => [rule, settingOf(rule, byRule.get(rule))])) as RuleSettings;
}

/** A field of a rule's setting as it was and as a version made it ("params.minScore": 0.7 → 0.8). */
export type RuleSettingChanges = Record<string, { from: string; to: string }>;

function changesBetween(before: RuleSetting, after: RuleSetting): RuleSettingChanges {
  const flat = (s: RuleSetting): Record<string, unknown> => ({
    enabled: s.enabled, severity: s.severity, joinWindowMinutes: s.joinWindowMinutes,
    ...Object.fromEntries(Object.entries(s.params).map(([name, value]) => [`params.${name}`, value])),
  });
  const [a, b] = [flat(before), flat(after)];
  const changed = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => a[key] !== b[key]);
  return Object.fromEntries(changed.map((key) => [key, { from: String(a[key] ?? "—"), to: String(b[key] ?? "—") }]));
}

const HISTORY_SHOWN = 10;

export type RuleHistory = {
  /** The newest saved version (0: none, the rule's defaults), which a save must name as the one it replaces. */
  version: number;
  /** Whether that version reads as a setting (if not, the rule's defaults are in force). */
  readable: boolean;
  /** The newest HISTORY_SHOWN versions, newest first; `changes` null where a version cannot be read. */
  versions: { version: number; comment: string; author: string | null; createdAt: Date; changes: RuleSettingChanges | null }[];
};

/** Each rule's newest version and its newest saved versions, newest first, each with who saved it and what it changed. */
export async function ruleHistory(): Promise<Record<RuleKey, RuleHistory>> {
  const rows = await db().detectionRuleVersion.findMany({ orderBy: [{ rule: "asc" }, { version: "desc" }] });
  const authorIds = [...new Set(rows.map((row) => row.authorId).filter((id): id is string => id !== null))];
  const authors = new Map((await db().user.findMany({ where: { id: { in: authorIds } }, select: { id: true, email: true } })).map((u) => [u.id, u.email]));
  return Object.fromEntries(RULE_KEYS.map((rule): [RuleKey, RuleHistory] => {
    const saved = rows.filter((row) => row.rule === rule);
    const versions = saved.slice(0, HISTORY_SHOWN).map((row, i) => {
      const [before, after] = [saved[i + 1] ? storedSetting(rule, saved[i + 1]!) : defaultRuleSetting(rule), storedSetting(rule, row)];
      return {
        version: row.version, comment: row.comment, createdAt: row.createdAt,
        author: row.authorId ? (authors.get(row.authorId) ?? "(a deleted account)") : null,
        changes: before && after ? changesBetween(before, after) : null,
      };
    });
    return [rule, { version: saved[0]?.version ?? 0, readable: !saved[0] || storedSetting(rule, saved[0]) !== null, versions }];
  })) as Record<RuleKey, RuleHistory>;
}

/** Every saved version's author and comment (no cap, no diffs): are changes attributed (SOC 2 CC8.1)? */
export function listRuleVersionAttribution(): Promise<{ rule: string; version: number; authorId: string | null; comment: string }[]> {
  return db().detectionRuleVersion.findMany({ select: { rule: true, version: true, authorId: true, comment: true } });
}

export const ruleCommentSchema = z.string().trim().min(3, "Say why, for the history.").max(300);

export type RuleSettingResult =
  | { ok: true; setting: RuleSetting; version: number }
  | { ok: false; reason: "invalid"; errors: Record<string, string> }
  | { ok: false; reason: "stale"; newest: number };

/**
 * Validates and saves one rule's settings as its next version; the change (before and after, the
 * comment) is audited. `baseVersion`: the version the form showed; refused if another was saved
 * since, which the form's values (every field, changed or not) would otherwise quietly undo.
 */
export async function saveRuleSetting(rule: RuleKey, input: unknown, comment: string, ctx: AuditContext, baseVersion: number | null = null): Promise<RuleSettingResult> {
  const parsed = ruleSettingSchema(rule).safeParse(input);
  const why = ruleCommentSchema.safeParse(comment);
  if (!parsed.success || !why.success) {
    const issues = [...(parsed.error?.issues ?? []), ...(why.error?.issues.map((i) => ({ ...i, path: ["comment"] })) ?? [])];
    return { ok: false, reason: "invalid", errors: Object.fromEntries(issues.map((i) => [i.path.join("."), i.message])) };
  }
  const setting = parsed.data;
  const saved = await db().$transaction(async (tx) => {
    // One save of a rule at a time, so the version read here is the one replaced.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`gatehouse.detection_rule.${rule}`}))`;
    const replaced = await tx.detectionRuleVersion.findFirst({ where: { rule }, orderBy: { version: "desc" } });
    const newest = replaced?.version ?? 0;
    if (baseVersion !== null && baseVersion !== newest) return { ok: false as const, newest };
    await tx.detectionRuleVersion.create({
      data: {
        rule, version: newest + 1, enabled: setting.enabled, severity: setting.severity as Severity, joinWindowMinutes: setting.joinWindowMinutes,
        params: setting.params as Prisma.InputJsonObject, comment: why.data, authorId: ctx.actor.type === "user" ? ctx.actor.id : null,
      },
    });
    return { ok: true as const, version: newest + 1, before: settingOf(rule, replaced ?? undefined) };
  });
  const resource = { type: "detection_rule", id: rule };
  if (!saved.ok) {
    await audit(ctx, { type: "incident", action: "incident.rule.update", outcome: "failure", resource, metadata: { reason: "stale", baseVersion, newestVersion: saved.newest } });
    return { ok: false, reason: "stale", newest: saved.newest };
  }
  await audit(ctx, {
    type: "incident", action: "incident.rule.update", outcome: "success", resource,
    metadata: { version: saved.version, comment: why.data, changes: changesBetween(saved.before, setting) },
  });
  return { ok: true, setting, version: saved.version };
}
