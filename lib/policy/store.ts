import "server-only";
import { createTwoFilesPatch } from "diff";
import { db, type Prisma } from "../db/client";
import { audit, type AuditContext } from "../audit/context";
import { entitiesNamed, formatPolicies, policyIds, validatePolicies, type CedarProblem } from "./cedar";
import { findLockout, lockedWeekKey, lockedWeeks, type Lockout, type PolicyPrincipal } from "./lockout-guard";
import { policySetInForce, enforceVersion, versionText, type ConsoleSubject } from "./pdp";
import { CEDAR_SCHEMA, DEFAULT_POLICIES } from "./schema";

// Policy sets with versions: one shared draft, validated against the schema; publishing makes a
// new version (never edits an old one); a rollback publishes an old version's text again.

import type { PolicyCheck } from "./types";

export type { PolicyCheck, PolicyPrincipal };

/**
 * What policies are validated against: Gatehouse's schema and every registered service's
 * (service-schemas.ts), read now.
 */
export async function schemaInForce(client: Prisma.TransactionClient = db()): Promise<string> {
  const services = await client.policyServiceSchema.findMany({ orderBy: { namespace: "asc" }, select: { text: true } });
  return joinSchemas(services.map((s) => s.text));
}

/** Gatehouse's schema followed by services' fragments. */
export const joinSchemas = (fragments: readonly string[]) => [CEDAR_SCHEMA, ...fragments].join("\n");

/** Schema validation against `schema` (schemaInForce) plus what Cedar does not check: every policy has its own @id. */
export function checkPolicies(text: string, schema: string): PolicyCheck {
  const result = validatePolicies(text, schema);
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

/**
 * Saves the shared draft. `baseVersion`: the version the editor's text was written against (not
 * the one in force now: a save must not hide that another admin published since, or the publish
 * that follows would quietly undo their version). rebaseDraft says it was checked against the newer one.
 */
export async function saveDraft(text: string, baseVersion: number, ctx: AuditContext): Promise<void> {
  const { version } = await policySetInForce();
  const base = Math.min(baseVersion, version);
  const by = ctx.actor.type === "user" ? ctx.actor.id : null;
  await db().policyDraft.upsert({ where: { id: 1 }, create: { id: 1, text, baseVersion: base, updatedBy: by }, update: { text, baseVersion: base, updatedBy: by } });
  await audit(ctx, { type: "policy", action: "policy.draft.save", outcome: "success", resource: { type: "policy_set", id: "draft" }, metadata: { baseVersion: base, bytes: text.length } });
}

/**
 * An admin has checked the saved draft against `checkedVersion`, the version in force when the page
 * showed it (published after the draft was started): the draft is based on it from now on, so it
 * may be published. Refused if the draft was saved again since `savedAt`, or another version was
 * published since (a colleague's rollback, say: what was checked against is no longer in force, and
 * basing the draft on the new one would let its publish undo that unseen).
 */
export async function rebaseDraft(savedAt: Date, checkedVersion: number, ctx: AuditContext): Promise<{ ok: true; baseVersion: number } | { ok: false; message: string }> {
  const { version } = await newestPolicy(db());
  if (version !== checkedVersion) return { ok: false, message: `Version ${version} has been published since this page was loaded: reload it and check the draft against that one.` };
  const by = ctx.actor.type === "user" ? ctx.actor.id : null;
  const { count } = await db().policyDraft.updateMany({ where: { id: 1, updatedAt: savedAt }, data: { baseVersion: version, updatedBy: by } });
  if (count === 0) return { ok: false, message: "The draft was saved again (or published) since this page was loaded: reload it and check the draft again." };
  await audit(ctx, { type: "policy", action: "policy.draft.rebase", outcome: "success", resource: { type: "policy_set", id: "draft" }, metadata: { baseVersion: version } });
  return { ok: true, baseVersion: version };
}

export type PublishResult = { ok: true; version: number } | { ok: false; message: string; errors?: CedarProblem[] };

/** The active admins as the policies see them, read with `client` (lib/auth's listActiveAdmins). */
export type AdminsReader = (client: Prisma.TransactionClient) => Promise<readonly PolicyPrincipal[]>;

/**
 * Publishes `text` as the next version, if it validates and one of the active admins (`admins`,
 * read under takeAdminAccessLock, so no change of the admins slips in between) keeps a way back to
 * the policy editor (lockout-guard.ts), from the publisher's address.
 */
export type PublishOptions = {
  /** A rollback: the version whose text this publishes again. */
  restoredFrom?: number | null;
  /** The version the editor's text (or the rollback's button) was written against: refused if another has been published since. */
  baseVersion?: number | null;
  /** The saved draft the editor opened, if any: it goes with the publish (unless saved again since). */
  draftSavedAt?: Date | null;
  /** Why the publisher may no longer act on their request's authority, read under the lock (lib/auth's actorChanged). */
  publisherChanged?: ((tx: Prisma.TransactionClient) => Promise<string | null>) | null;
};

export async function publishPolicies(
  text: string, comment: string, publisher: Pick<ConsoleSubject, "ip">, admins: AdminsReader, ctx: AuditContext,
  { restoredFrom = null, baseVersion = null, draftSavedAt = null, publisherChanged = null }: PublishOptions = {},
): Promise<PublishResult> {
  // A refused rollback is recorded as one, as its success is.
  const action = restoredFrom === null ? "policy.publish" : "policy.rollback";
  const { previous, outcome } = await db().$transaction(async (tx) => {
    await takeAdminAccessLock(tx);
    // Read under the lock, from the database (not this instance's cache, nor parsed: a version
    // that no longer parses must not stop the break-glass reset): what this publish replaces.
    const previous = await newestPolicy(tx);
    const answer = (outcome: PublishOutcome) => ({ previous, outcome });
    // Against the services' schemas as they are under the lock: none changes between this check and the publish.
    const check = checkPolicies(text, await schemaInForce(tx));
    if (!check.ok) return answer({ kind: "invalid", errors: check.errors });
    const changed = publisherChanged && (await publisherChanged(tx));
    if (changed) return answer({ kind: "publisher_changed", message: changed });
    if (baseVersion !== null && previous.version !== baseVersion) return answer({ kind: "stale" });
    const lockout = findLockout(text, publisher.ip, await admins(tx));
    if (lockout) return answer({ kind: "lockout", lockout });
    const row = await tx.policyVersion.create({ data: { text, comment, authorId: ctx.actor.type === "user" ? ctx.actor.id : null, restoredFrom } });
    // The draft the editor opened goes with it; a draft saved since (another admin's) stays.
    if (draftSavedAt) await tx.policyDraft.deleteMany({ where: { updatedAt: draftSavedAt } });
    return answer({ kind: "published", version: row.version });
  }, ADMIN_ACCESS_TRANSACTION);
  const refused = (outcome: "blocked" | "failure", metadata: Record<string, unknown>) =>
    audit(ctx, { type: "policy", action, outcome, resource: { type: "policy_set", id: "draft" }, metadata: { ...metadata, restoredFrom } });
  switch (outcome.kind) {
    case "invalid":
      await refused("failure", { reason: "invalid", errors: outcome.errors.length });
      return { ok: false, message: "The policies do not validate against the schema; nothing was published.", errors: outcome.errors };
    case "publisher_changed":
      await refused("blocked", { reason: "publisher_changed" });
      return { ok: false, message: outcome.message };
    case "stale":
      await refused("failure", { reason: "stale", baseVersion, newestVersion: previous.version });
      return { ok: false, message: `Version ${previous.version} was published after you started from version ${baseVersion}: nothing was published. Reload the page to see it, then make your change again.` };
    case "lockout":
      await refused("blocked", { reason: "lockout_guard", nobodyCould: outcome.lockout.does, weekFrom: outcome.lockout.weekFrom.toISOString() });
      return { ok: false, message: lockoutMessage(outcome.lockout, publisher.ip) };
  }
  const { version } = outcome;
  enforceVersion(version, text);
  await audit(ctx, {
    type: "policy", action, outcome: "success", resource: { type: "policy_set", id: String(version) },
    metadata: { version, previousVersion: previous.version, restoredFrom, comment, policies: policyIds(text), diff: policyDiff(previous.text, text, previous.version, version) },
  });
  return { ok: true, version };
}

/** What a publish came to under the lock. */
type PublishOutcome =
  | { kind: "invalid"; errors: CedarProblem[] }
  | { kind: "publisher_changed"; message: string }
  | { kind: "stale" }
  | { kind: "lockout"; lockout: Lockout }
  | { kind: "published"; version: number };

function lockoutMessage({ does, yearsFromNow, weekFrom }: Lockout, from: string | null, what = "these policies"): string {
  const when = yearsFromNow === 0 ? "in the coming week" : `in the week from ${weekFrom.toISOString().slice(0, 10)}`;
  return `Refused: with ${what} no admin could ${does} ${when}, so nobody could undo it. ` +
    `Some admin, signed in with a second factor from ${from ?? "an unknown address"}, must be able to open the console, open the policies page and publish ` +
    "at some hour of every week tried: the coming one, a year and ten years ahead and back, and the week from each coming date the policies compare the time with.";
}

export async function rollbackPolicies(
  toVersion: number, comment: string, publisher: Pick<ConsoleSubject, "ip">, admins: AdminsReader, ctx: AuditContext,
  options: Pick<PublishOptions, "baseVersion" | "publisherChanged"> = {},
): Promise<PublishResult> {
  const text = await versionText(toVersion);
  if (text === null) return { ok: false, message: `There is no version ${toVersion}.` };
  return publishPolicies(text, comment, publisher, admins, ctx, { ...options, restoredFrom: toVersion });
}

/** What a reset published, and the version in force before it. */
export type ResetResult = { ok: true; version: number; replaced: number } | Extract<PublishResult, { ok: false }>;

/** The command line's actor: someone with shell access, not a signed-in user. */
const CLI_CONTEXT: AuditContext = { actor: { type: "system", id: null, label: "cli" }, client: null };

/**
 * Break-glass (npm run policies:reset), for when a publish shut the admins out of the console:
 * publishes version `toVersion` again (0: the built-in roles), audited as the command line's
 * rollback. The lockout guard still applies, from an unknown address as there is no browser; the
 * built-in roles always pass it while an admin is active.
 */
export async function resetPolicies(toVersion: number, admins: AdminsReader, ctx = CLI_CONTEXT): Promise<ResetResult> {
  // From the database, unparsed: the version in force may be what no longer parses.
  const replaced = (await newestPolicy(db())).version;
  const result = await rollbackPolicies(toVersion, `Break-glass reset to version ${toVersion} from the command line`, { ip: null }, admins, ctx);
  return result.ok ? { ...result, replaced } : result;
}

export function policyDiff(before: string, after: string, fromVersion: number, toVersion: number): string {
  return createTwoFilesPatch(`version ${fromVersion}`, `version ${toVersion}`, before, after, undefined, undefined, { context: 2 });
}

/** Published versions, newest first, each with its diff from the one before (version 1: from the built-in roles). */
export const POLICY_HISTORY_SHOWN = 30;

export async function listPolicyVersions() {
  const rows = await db().policyVersion.findMany({ orderBy: { version: "desc" }, take: POLICY_HISTORY_SHOWN });
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

/**
 * Changes of who can reach the console as an admin (an admin's roles, status or account, a
 * membership of a group the policies name) run one at a time, each judged by the lockout guard on
 * what the one before left: two admins taking the last two keepers out at once cannot both pass.
 */
export async function takeAdminAccessLock(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('gatehouse.admin-access'))`;
}

/** The newest published policies, read now (write paths judge by these, not by an instance's cached set). */
/** The newest version as stored (0: the built-in roles), unparsed: it may be one that no longer parses. */
export async function newestPolicy(client: Prisma.TransactionClient): Promise<{ version: number; text: string }> {
  const newest = await client.policyVersion.findFirst({ orderBy: { version: "desc" }, select: { version: true, text: true } });
  return newest ?? { version: 0, text: DEFAULT_POLICIES };
}

const newestPolicyText = async (client: Prisma.TransactionClient) => (await newestPolicy(client)).text;

/**
 * The groups the newest policies name (Gatehouse::Group::"<id>"), each with the ids of the policies
 * that name it: membership of these is power in Gatehouse (lib/groups, lib/auth). Read now (see
 * newestPolicyText).
 */
export async function groupsNamedNow(client: Prisma.TransactionClient = db()): Promise<ReadonlyMap<string, string[]>> {
  return entitiesNamed(await newestPolicyText(client), "Gatehouse::Group");
}

/**
 * The refusal of a change that takes the admins from `before` to `after` (their roles, groups, who
 * they are) when it leaves no admin a way back to the policy editor from `from`, as a publish is
 * refused (lockout-guard.ts), in some week tried where there was a way before it; null when there
 * is still a way in every week where there was one (this change shuts no one out: from an address
 * the policies keep out of the editor, say, there was no way before either).
 */
export async function lockoutOfChange(before: readonly PolicyPrincipal[], after: readonly PolicyPrincipal[], from: string | null, client: Prisma.TransactionClient = db()): Promise<string | null> {
  // The same admins with the same emails, roles and groups: nothing for the guard's Cedar work to judge.
  if (samePrincipals(before, after)) return null;
  const text = await newestPolicyText(client);
  const lockedAfter = lockedWeeks(text, from, after);
  if (!lockedAfter.length) return null;
  const lockedBefore = new Set(lockedWeeks(text, from, before).map(lockedWeekKey));
  const newly = lockedAfter.find((week) => !lockedBefore.has(lockedWeekKey(week)));
  return newly ? lockoutMessage(newly, from, "this change") : null;
}

/**
 * Options for the transactions that hold takeAdminAccessLock: the lockout guard's Cedar work runs
 * inside them, and a change waits its turn behind others, so they get longer than Prisma's 5 s.
 */
export const ADMIN_ACCESS_TRANSACTION = { maxWait: 10_000, timeout: 30_000 } as const;

const principalKey = (p: PolicyPrincipal) => `${p.userId}|${p.email}|${[...p.roles].sort().join()}|${[...p.groups].sort().join()}`;
const samePrincipals = (a: readonly PolicyPrincipal[], b: readonly PolicyPrincipal[]) => a.map(principalKey).sort().join("\n") === b.map(principalKey).sort().join("\n");
