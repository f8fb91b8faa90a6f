import "server-only";
import { db, type Prisma } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { RULE_KEYS, defaultRuleSetting, ruleSettingSchema, type RuleKey, type RuleSetting, type RuleSettings } from "./rules";
import type { Severity } from "./model";

// The detection rules' settings in force: the stored row where an admin edited one, else the defaults.

export async function ruleSettings(): Promise<RuleSettings> {
  const rows = await db().detectionRuleSetting.findMany();
  const stored = new Map(rows.map((r) => [r.rule, r]));
  return Object.fromEntries(RULE_KEYS.map((rule) => {
    const row = stored.get(rule);
    const parsed = row ? ruleSettingSchema(rule).safeParse({ enabled: row.enabled, severity: row.severity, joinWindowMinutes: row.joinWindowMinutes, params: row.params }) : null;
    return [rule, parsed?.success ? parsed.data : defaultRuleSetting(rule)];
  })) as RuleSettings;
}

export type RuleSettingResult = { ok: true; setting: RuleSetting } | { ok: false; errors: Record<string, string> };

/** Validates and saves one rule's settings; the change (before and after) is audited. */
export async function saveRuleSetting(rule: RuleKey, input: unknown, ctx: AuditContext): Promise<RuleSettingResult> {
  const parsed = ruleSettingSchema(rule).safeParse(input);
  if (!parsed.success) {
    return { ok: false, errors: Object.fromEntries(parsed.error.issues.map((i) => [i.path.join("."), i.message])) };
  }
  const before = (await ruleSettings())[rule];
  const setting = parsed.data;
  const data = { enabled: setting.enabled, severity: setting.severity as Severity, joinWindowMinutes: setting.joinWindowMinutes, params: setting.params as Prisma.InputJsonObject, updatedBy: ctx.actor.type === "user" ? ctx.actor.id : null, updatedAt: new Date() };
  await db().detectionRuleSetting.upsert({ where: { rule }, create: { rule, ...data }, update: data });
  await audit(ctx, { type: "incident", action: "incident.rule.update", outcome: "success", resource: { type: "detection_rule", id: rule }, metadata: { before: { ...before, params: before.params as Record<string, string | number | boolean> }, after: { ...setting, params: setting.params as Record<string, string | number | boolean> } } });
  return { ok: true, setting };
}
