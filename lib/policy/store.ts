import "server-only";
import { createTwoFilesPatch } from "diff";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { decide, formatPolicies, policyIds, preparse, validatePolicies, type CedarProblem } from "./cedar";
import { consoleRequest, policySetInForce, enforceVersion, type ConsoleSubject } from "./pdp";
import { DEFAULT_POLICIES } from "./schema";

// Policy sets with versions: one shared draft, validated against the schema; publishing makes a
// new version (never edits an old one); a rollback publishes an old version's text again.

import type { PolicyCheck } from "./types";

export type { PolicyCheck };

/** Schema validation plus what Cedar does not check: every policy has its own @id. */
export function checkPolicies(text: string): PolicyCheck {
  const result = validatePolicies(text);
  if (!result.ok) return result;
  const ids = policyIds(text);
  const seen = new Set<string>();
  const errors: CedarProblem[] = [];
  ids.forEach((id, i) => {
    if (/^policy\d+$/.test(id)) errors.push({ policyId: id, message: `Policy ${i + 1} has no @id("…") annotation: give every policy a name, so decisions can say which one decided.`, help: null, line: null, column: null });
    else if (seen.has(id)) errors.push({ policyId: id, message: `Two policies are named "${id}".`, help: null, line: null, column: null });
    seen.add(id);
  });
  return { ok: errors.length === 0, errors, warnings: result.warnings };
}

export async function policyEditorState() {
  const { version } = await policySetInForce();
  const [row, draft] = await Promise.all([
    version === 0 ? null : db().policyVersion.findUnique({ where: { version } }),
    db().policyDraft.findUnique({ where: { id: 1 } }),
  ]);
  return {
    inForce: { version, text: row?.text ?? DEFAULT_POLICIES, comment: row?.comment ?? "Built-in roles", createdAt: row?.createdAt ?? null },
    draft: draft && { text: draft.text, baseVersion: draft.baseVersion, updatedAt: draft.updatedAt },
  };
}

export async function saveDraft(text: string, ctx: AuditContext): Promise<void> {
  const { version } = await policySetInForce();
  const by = ctx.actor.type === "user" ? ctx.actor.id : null;
  await db().policyDraft.upsert({ where: { id: 1 }, create: { id: 1, text, baseVersion: version, updatedBy: by }, update: { text, baseVersion: version, updatedBy: by } });
  await audit(ctx, { type: "policy", action: "policy.draft.save", outcome: "success", resource: { type: "policy_set", id: "draft" }, metadata: { baseVersion: version, bytes: text.length } });
}

export type PublishResult = { ok: true; version: number } | { ok: false; message: string; errors?: CedarProblem[] };

/**
 * Publishes `text` as the next version, if it validates and some admin could still manage the
 * policies afterwards (the lockout guard: each admin, at every hour of the day, from the
 * publisher's address, with the strongest authentication).
 */
export async function publishPolicies(text: string, comment: string, publisher: ConsoleSubject, ctx: AuditContext, restoredFrom: number | null = null): Promise<PublishResult> {
  const check = checkPolicies(text);
  if (!check.ok) {
    await audit(ctx, { type: "policy", action: "policy.publish", outcome: "failure", resource: { type: "policy_set", id: "draft" }, metadata: { reason: "invalid", errors: check.errors.length } });
    return { ok: false, message: "The policies do not validate against the schema; nothing was published.", errors: check.errors };
  }
  if (!(await someAdminKeepsTheEditor(text, publisher))) {
    await audit(ctx, { type: "policy", action: "policy.publish", outcome: "blocked", resource: { type: "policy_set", id: "draft" }, metadata: { reason: "lockout_guard" } });
    return { ok: false, message: "Refused: with these policies no admin could manage the policies at any hour of the day, so nobody could undo them. Keep a permit for admins on Gatehouse::Console::\"policies\"." };
  }
  const previous = await policySetInForce();
  const previousText = previous.version === 0 ? DEFAULT_POLICIES : (await db().policyVersion.findUniqueOrThrow({ where: { version: previous.version } })).text;
  const row = await db().$transaction(async (tx) => {
    const created = await tx.policyVersion.create({ data: { text, comment, authorId: ctx.actor.type === "user" ? ctx.actor.id : null, restoredFrom } });
    await tx.policyDraft.deleteMany({});
    return created;
  });
  enforceVersion(row.version, text);
  await audit(ctx, {
    type: "policy", action: restoredFrom === null ? "policy.publish" : "policy.rollback", outcome: "success", resource: { type: "policy_set", id: String(row.version) },
    metadata: { version: row.version, previousVersion: previous.version, restoredFrom, comment, policies: policyIds(text), diff: policyDiff(previousText, text, previous.version, row.version) },
  });
  return { ok: true, version: row.version };
}

export async function rollbackPolicies(toVersion: number, comment: string, publisher: ConsoleSubject, ctx: AuditContext): Promise<PublishResult> {
  const text = toVersion === 0 ? DEFAULT_POLICIES : (await db().policyVersion.findUnique({ where: { version: toVersion } }))?.text;
  if (text === undefined) return { ok: false, message: `There is no version ${toVersion}.` };
  return publishPolicies(text, comment, publisher, ctx, toVersion);
}

async function someAdminKeepsTheEditor(text: string, publisher: ConsoleSubject): Promise<boolean> {
  preparse("gatehouse-candidate", text);
  const admins = await db().user.findMany({ where: { roles: { has: "admin" }, disabledAt: null }, select: { id: true, email: true, roles: true } });
  const day = new Date();
  return admins.some((admin) =>
    Array.from({ length: 24 }, (_, hour) => new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour, 30))).some((at) => {
      const subject = { ...publisher, userId: admin.id, email: admin.email, roles: admin.roles, authStrength: "phishing_resistant" as const, mfaFresh: true, deviceTrusted: true, risk: 0 };
      return decide("gatehouse-candidate", consoleRequest(subject, "policies", "manage", at)).decision === "allow";
    }),
  );
}

export function policyDiff(before: string, after: string, fromVersion: number, toVersion: number): string {
  return createTwoFilesPatch(`version ${fromVersion}`, `version ${toVersion}`, before, after, undefined, undefined, { context: 2 });
}

export async function listPolicyVersions() {
  const rows = await db().policyVersion.findMany({ orderBy: { version: "desc" }, take: 30 });
  const authors = await db().user.findMany({ where: { id: { in: rows.flatMap((r) => (r.authorId ? [r.authorId] : [])) } }, select: { id: true, email: true } });
  const email = new Map(authors.map((a) => [a.id, a.email]));
  return rows.map((row, i) => {
    const previous = rows[i + 1] ?? null;
    const previousText = previous ? previous.text : row.version === 1 ? DEFAULT_POLICIES : null;
    return {
      version: row.version, comment: row.comment, createdAt: row.createdAt, author: row.authorId ? (email.get(row.authorId) ?? "deleted user") : "system",
      restoredFrom: row.restoredFrom, diff: previousText === null ? null : policyDiff(previousText, row.text, previous?.version ?? 0, row.version),
    };
  });
}

export { formatPolicies };
