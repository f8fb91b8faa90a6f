import "server-only";
import { createTwoFilesPatch } from "diff";
import { db } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { decide, formatPolicies, policyIds, preparse, validatePolicies, type CedarProblem } from "./cedar";
import { consoleRequest, policySetInForce, enforceVersion, versionText, type ConsoleSubject } from "./pdp";
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

/** A user as the policies see one: lib/auth owns users and hands them in. */
export type PolicyPrincipal = { userId: string; email: string; roles: readonly string[] };

/**
 * Publishes `text` as the next version, if it validates and one of `admins` (the active admins,
 * from lib/auth) could still manage the policies afterwards: the lockout guard tries each admin
 * at every hour of the day, from the publisher's address, with the strongest authentication.
 */
export async function publishPolicies(text: string, comment: string, publisher: ConsoleSubject, admins: readonly PolicyPrincipal[], ctx: AuditContext, restoredFrom: number | null = null): Promise<PublishResult> {
  const check = checkPolicies(text);
  if (!check.ok) {
    await audit(ctx, { type: "policy", action: "policy.publish", outcome: "failure", resource: { type: "policy_set", id: "draft" }, metadata: { reason: "invalid", errors: check.errors.length } });
    return { ok: false, message: "The policies do not validate against the schema; nothing was published.", errors: check.errors };
  }
  if (!someAdminKeepsTheEditor(text, publisher, admins)) {
    await audit(ctx, { type: "policy", action: "policy.publish", outcome: "blocked", resource: { type: "policy_set", id: "draft" }, metadata: { reason: "lockout_guard" } });
    return { ok: false, message: "Refused: with these policies no admin could manage the policies at any hour of the day, so nobody could undo them. Keep a permit for admins on Gatehouse::Console::\"policies\"." };
  }
  const previous = await policySetInForce();
  const previousText = (await versionText(previous.version)) ?? "";
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

export async function rollbackPolicies(toVersion: number, comment: string, publisher: ConsoleSubject, admins: readonly PolicyPrincipal[], ctx: AuditContext): Promise<PublishResult> {
  const text = await versionText(toVersion);
  if (text === null) return { ok: false, message: `There is no version ${toVersion}.` };
  return publishPolicies(text, comment, publisher, admins, ctx, toVersion);
}

function someAdminKeepsTheEditor(text: string, publisher: ConsoleSubject, admins: readonly PolicyPrincipal[]): boolean {
  preparse("gatehouse-candidate", text);
  const day = new Date();
  const hours = Array.from({ length: 24 }, (_, hour) => new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour, 30)));
  return admins.some((admin) => {
    const subject = { ...publisher, ...admin, authStrength: "phishing_resistant" as const, mfaFresh: true, deviceTrusted: true, risk: 0 };
    return hours.some((at) => decide("gatehouse-candidate", consoleRequest(subject, "policies", "manage", at)).decision === "allow");
  });
}

export function policyDiff(before: string, after: string, fromVersion: number, toVersion: number): string {
  return createTwoFilesPatch(`version ${fromVersion}`, `version ${toVersion}`, before, after, undefined, undefined, { context: 2 });
}

/** Published versions, newest first, each with its diff from the one before (version 1: from the built-in roles). */
export async function listPolicyVersions() {
  const rows = await db().policyVersion.findMany({ orderBy: { version: "desc" }, take: 30 });
  return rows.map((row, i) => {
    const previous = rows[i + 1] ?? null;
    const previousText = previous ? previous.text : row.version === 1 ? DEFAULT_POLICIES : null;
    return {
      version: row.version, comment: row.comment, createdAt: row.createdAt, authorId: row.authorId, restoredFrom: row.restoredFrom,
      diff: previousText === null ? null : policyDiff(previousText, row.text, previous?.version ?? 0, row.version),
    };
  });
}

/** Every published version's author and comment (no cap, no diffs): are changes attributed (SOC 2 CC8.1)? */
export function listPolicyVersionAttribution(): Promise<{ version: number; authorId: string | null; comment: string }[]> {
  return db().policyVersion.findMany({ select: { version: true, authorId: true, comment: true } });
}

export { formatPolicies };
