import "server-only";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { riskSettingsSchema, newRiskSettingsSchema, DEFAULT_RISK_SETTINGS, settingsInForce, type RiskSettings } from "./settings-schema";

export { riskSettingsSchema, newRiskSettingsSchema, DEFAULT_RISK_SETTINGS, type RiskSettings };

// The newest version rules. The assessment reads it on every attempt (lib/risk/assess.ts), so a
// change takes effect on every instance at once.

export type CurrentSettings = { version: number; settings: RiskSettings; unreadable?: number };

export async function currentRiskSettings(): Promise<CurrentSettings> {
  return settingsInForce(await db().riskSettingsVersion.findFirst({ orderBy: { version: "desc" } }));
}

/** The saved versions, newest first, each with what it changed from the one before (version 1: from the defaults). */
export async function listRiskSettingsVersions() {
  const rows = await db().riskSettingsVersion.findMany({ orderBy: { version: "desc" }, take: 21 });
  return rows.slice(0, 20).map((row, i) => {
    const previous = rows[i + 1] ? settingsInForce(rows[i + 1]!).settings : row.version === 1 ? DEFAULT_RISK_SETTINGS : null;
    const parsed = riskSettingsSchema.safeParse(row.settings);
    return { version: row.version, comment: row.comment, createdAt: row.createdAt, changes: previous && parsed.success ? diffSettings(previous, parsed.data) : null };
  });
}

/** Every saved version's author and comment (no cap, no diffs): are changes attributed (SOC 2 CC8.1)? */
export function listRiskSettingsVersionAttribution(): Promise<{ version: number; authorId: string | null; comment: string }[]> {
  return db().riskSettingsVersion.findMany({ select: { version: true, authorId: true, comment: true } });
}

export type SaveResult = { ok: true; version: number } | { ok: false; newest: number };

/**
 * Saves a new version (never edits an old one) and audits what changed from the one it replaced.
 * `baseVersion`: the version the form showed; refused if another was saved since, which the
 * form's values (every field, changed or not) would otherwise quietly undo.
 */
export async function saveRiskSettings(settings: RiskSettings, comment: string, ctx: AuditContext, baseVersion: number | null = null): Promise<SaveResult> {
  const saved = await db().$transaction(async (tx) => {
    // One save at a time, so the version read here is the one replaced.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('gatehouse.risk_settings'))`;
    const replaced = await tx.riskSettingsVersion.findFirst({ orderBy: { version: "desc" } });
    const newest = replaced?.version ?? 0;
    if (baseVersion !== null && baseVersion !== newest) return { ok: false as const, newest };
    const row = await tx.riskSettingsVersion.create({ data: { settings, comment, authorId: ctx.actor.type === "user" ? ctx.actor.id : null } });
    return { ok: true as const, version: row.version, before: settingsInForce(replaced).settings };
  });
  if (!saved.ok) {
    await audit(ctx, { type: "admin", action: "risk.settings.update", outcome: "failure", resource: { type: "risk_settings", id: "new" }, metadata: { reason: "stale", baseVersion, newestVersion: saved.newest } });
    return saved;
  }
  await audit(ctx, {
    type: "admin", action: "risk.settings.update", outcome: "success",
    resource: { type: "risk_settings", id: String(saved.version) },
    metadata: { version: saved.version, comment, changes: diffSettings(saved.before, settings) },
  });
  return { ok: true, version: saved.version };
}

/** Flat "path: old → new" list of what differs, for the audit event and the history view. */
export function diffSettings(before: RiskSettings, after: RiskSettings): Record<string, { from: number | null; to: number | null }> {
  const changes: Record<string, { from: number | null; to: number | null }> = {};
  const leaf = (v: unknown) => (typeof v === "number" ? v : null);
  const walk = (a: unknown, b: unknown, path: string) => {
    if (a && b && typeof a === "object" && typeof b === "object") {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      }
    } else if (a !== b) changes[path] = { from: leaf(a), to: leaf(b) };
  };
  walk(before, after, "");
  return changes;
}
