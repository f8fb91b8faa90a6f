"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { checkAccess, guardedAction } from "@/lib/auth";
import {
  addNote, assignIncident, assignSchema, captureNow, changeStatus, ChannelNameTakenError, CLOSED_STATUSES, createChannel, deleteChannel, dryRunPlaybook, newChannelSchema, noteSchema,
  parseSteps, playbookInputSchema, PlaybookNameTakenError, responseActionSchema, RULE_KEYS, retryRun, ruleCommentSchema, type RetryRefusal, runResponseAction, savePlaybook, saveRuleSetting, statusChangeSchema, STATUS_LABELS, testChannel,
  type StatusChangeResult,
} from "@/lib/incidents";

// Analysts and admins handle incidents ("incidents" manage, by the policies); changing how
// detection and playbooks behave is policy too, so it needs "policies" manage (admins) and a
// fresh MFA verification.

const MANAGE = { section: "incidents", action: "manage" } as const;
const CONFIGURE = { section: "policies", action: "manage" } as const;
const incidentId = z.object({ incidentId: z.uuid() });
const page = (id: string) => `/admin/incidents/${id}`;

function statusRefusal(result: Exclude<StatusChangeResult, { ok: true }>): string {
  switch (result.refusal) {
    case "unchanged":
      return "Nothing changed: the incident already has that status, was changed by someone else meanwhile (reload to see), or no longer exists.";
    case "closer_is_subject":
      return "This incident is about your own account: someone else must close it.";
    case "subjects_beyond_you":
      return `Only an admin can close this incident: it is about ${result.users.join(", ")}, accounts with roles or console access you lack, and closing it cancels any response still to run on them.`;
  }
}

// Closing (resolved, false positive) cancels what is left of the incident's playbook runs: a fresh
// MFA verification, like a one-click response. Other moves (taken up, contained) stay one click.
export const changeStatusAction = guardedAction(MANAGE, incidentId.and(statusChangeSchema), async ({ incidentId: id, ...input }, user, ctx) => {
  const result = await changeStatus(id, input, user, ctx);
  revalidatePath(page(id));
  if (result.ok) return { ok: true, message: `Status is now ${STATUS_LABELS[input.status].toLowerCase()}.` };
  return { ok: false, message: statusRefusal(result) };
}, { stepUp: ({ status }) => CLOSED_STATUSES.includes(status) });

export const assignAction = guardedAction(MANAGE, incidentId.and(assignSchema), async ({ incidentId: id, ...input }, _user, ctx) => {
  const result = await assignIncident(id, input, ctx);
  revalidatePath(page(id));
  return result.ok ? { ok: true, message: input.assignee ? `Assigned to ${input.assignee}.` : "Unassigned." } : { ok: false, message: result.error };
});

export const addNoteAction = guardedAction(MANAGE, incidentId.and(noteSchema), async ({ incidentId: id, text }, _user, ctx) => {
  const added = await addNote(id, { text }, ctx);
  revalidatePath(page(id));
  return added ? { ok: true, message: "Note added." } : { ok: false, message: "No such incident." };
});

// The response form posts flat fields; the step is built from the kind and its parameters.
function stepFromForm(raw: unknown) {
  const f = (raw ?? {}) as Record<string, unknown>;
  const kind = f.kind;
  const number = (v: unknown) => (typeof v === "string" && v.trim() ? Number(v) : v);
  return {
    incidentId: f.incidentId,
    reason: f.reason,
    step: {
      kind,
      ...(kind === "block_ip" ? { hours: number(f.hours), scope: f.scope || "ip" } : {}),
      ...(kind === "lock_accounts" ? { minutes: number(f.minutes) } : {}),
      ...(kind === "notify" ? { channel: f.channel } : {}),
      ...(kind === "escalate" ? { assignee: f.assignee, ...(f.channel ? { channel: f.channel } : {}) } : {}),
    },
  };
}
const responseForm = z.preprocess(stepFromForm, incidentId.and(responseActionSchema));

export const responseAction = guardedAction(MANAGE, responseForm, async ({ incidentId: id, ...input }, user, ctx) => {
  const result = await runResponseAction(id, input, user, ctx);
  revalidatePath(page(id));
  if (!result) return { ok: false, message: "No such incident." };
  return { ok: result.status !== "failed", message: result.detail };
}, { stepUp: true });

const RETRY_REFUSALS: Record<RetryRefusal, string> = {
  not_retryable: "That run is not a failed or cancelled run of this incident (it finished, or is going).",
  incident_closed: "The incident is closed: reopen it first if the response is still needed.",
  acts_on_accounts_you_cannot: "Its steps act on an account with roles or console access you lack: only an admin can run it again.",
  playbook_changed: "The playbook was changed or switched off since this run: its old steps are not run again. Use a one-click response instead.",
};

// A run acts on accounts as the playbook did when the alert came: step-up and a reason, like a one-click response.
export const retryRunAction = guardedAction(MANAGE, incidentId.and(z.object({ runId: z.uuid() })), async ({ incidentId: id, runId }, user, ctx) => {
  const result = await retryRun(runId, id, user, ctx);
  revalidatePath(page(id));
  return result.ok ? { ok: true, message: "Run started again: its failed steps and those not run yet run now." } : { ok: false, message: RETRY_REFUSALS[result.refusal] };
}, { stepUp: true, askReason: true });

export const captureAction = guardedAction(MANAGE, incidentId.and(z.object({ reason: z.string().trim().min(3, "Give a reason.").max(300) })), async ({ incidentId: id, reason }, user, ctx) => {
  // What it freezes is read from the audit trail, among others (see the snapshot download).
  if (!(await checkAccess(user, { section: "audit", action: "view" }))) return { ok: false, message: "A snapshot holds audit trail entries: the access policies must let you view the audit trail." };
  const snapshot = await captureNow(id, reason, ctx);
  revalidatePath(page(id));
  return snapshot ? { ok: true, message: "Snapshot captured." } : { ok: false, message: "No such incident." };
});

// Steps are typed as JSON; their errors point at the step (lib/incidents parseSteps).
const playbookForm = z.preprocess((raw, ctx) => {
  const f = (raw ?? {}) as Record<string, unknown>;
  const steps = parseSteps(typeof f.stepsJson === "string" ? f.stepsJson.slice(0, 20_000) : "");
  if (!steps.ok) ctx.addIssue({ code: "custom", path: ["stepsJson"], message: steps.error, input: f.stepsJson });
  return { ...f, steps: steps.ok ? steps.steps : [] };
}, playbookInputSchema.and(z.object({ id: z.union([z.literal(""), z.uuid()]) })));

export const savePlaybookAction = guardedAction(CONFIGURE, playbookForm, async ({ id, ...input }, _user, ctx) => {
  try {
    const saved = await savePlaybook(id || null, input, ctx);
    if (!saved) return { ok: false, message: "That playbook no longer exists." };
    revalidatePath("/admin/incidents/playbooks");
    return { ok: true, message: `Saved "${saved.name}" as version ${saved.version}.`, data: { id: saved.id } };
  } catch (error) {
    if (error instanceof PlaybookNameTakenError) return { ok: false, fieldErrors: { name: ["Another playbook has this name."] } };
    throw error;
  }
}, { stepUp: true });

export const dryRunAction = guardedAction(MANAGE, z.object({ playbookId: z.uuid(), incidentId: z.uuid({ message: "Choose an incident." }) }), async ({ playbookId, incidentId: id }, _user, ctx) => {
  const result = await dryRunPlaybook(playbookId, id, ctx);
  if (!result) return { ok: false, message: "That playbook or incident no longer exists." };
  return { ok: true, message: `Dry run of v${result.playbook.version} against INC-${result.incident.number}: nothing was changed.`, data: result.steps.map((s) => ({ index: s.index, kind: s.kind, status: s.status, detail: s.detail })) };
});

const ruleForm = z
  .object({ rule: z.enum(RULE_KEYS as [string, ...string[]]), enabled: z.unknown(), severity: z.unknown(), joinWindowMinutes: z.unknown(), comment: ruleCommentSchema, baseVersion: z.unknown() })
  .catchall(z.unknown())
  .transform(({ rule, enabled, severity, joinWindowMinutes, comment, baseVersion, ...rest }) => ({
    rule: rule as (typeof RULE_KEYS)[number],
    comment,
    // The version the page showed; a page from before versions were sent has none.
    baseVersion: typeof baseVersion === "string" && /^\d{1,9}$/.test(baseVersion) ? Number(baseVersion) : null,
    // lib/incidents validates the setting itself (with the rule's own thresholds) and the comment.
    input: { enabled, severity, joinWindowMinutes, params: Object.fromEntries(Object.entries(rest).filter(([k]) => k.startsWith("params.")).map(([k, v]) => [k.slice(7), v])) },
  }));

export const saveRuleAction = guardedAction(CONFIGURE, ruleForm, async ({ rule, input, comment, baseVersion }, _user, ctx) => {
  if (baseVersion === null) return { ok: false, message: "This page is out of date: reload it, then make your change again." };
  const result = await saveRuleSetting(rule, input, comment, ctx, baseVersion);
  revalidatePath("/admin/incidents/rules");
  if (result.ok) return { ok: true, message: `Saved as version ${result.version}. Detection uses it from its next pass.` };
  if (result.reason === "stale") return { ok: false, message: `Version ${result.newest} of this rule was saved after this page showed version ${baseVersion}: nothing was saved. Reload the page to see it, then make your change again.` };
  // The reason was checked above (ruleCommentSchema): what is left are the thresholds, each named.
  return { ok: false, message: Object.entries(result.errors).map(([field, message]) => `${field}: ${message}`).join("; ") };
}, { stepUp: true });

export const createChannelAction = guardedAction(CONFIGURE, newChannelSchema, async (input, _user, ctx) => {
  try {
    const { channel, secret } = await createChannel(input, ctx);
    revalidatePath("/admin/incidents/channels");
    return { ok: true, message: `Channel "${channel.name}" added.`, data: secret ? { secret } : undefined };
  } catch (error) {
    if (error instanceof ChannelNameTakenError) return { ok: false, fieldErrors: { name: ["Another channel has this name."] } };
    throw error;
  }
}, { stepUp: true });

// Anyone who handles incidents may check that a channel reaches someone; it changes nothing.
export const testChannelAction = guardedAction(MANAGE, z.object({ name: z.string().min(1).max(60) }), async ({ name }, _user, ctx) => {
  const result = await testChannel(name, ctx);
  if (!result) return { ok: false, message: "That channel no longer exists." };
  return { ok: result.ok, message: result.ok ? `Test sent: ${result.detail}.` : `The test failed: ${result.detail}` };
});

export const deleteChannelAction = guardedAction(CONFIGURE, z.object({ id: z.uuid() }), async ({ id }, _user, ctx) => {
  const deleted = await deleteChannel(id, ctx);
  revalidatePath("/admin/incidents/channels");
  return deleted ? { ok: true, message: "Channel deleted." } : { ok: false, message: "That channel no longer exists." };
}, { stepUp: true });

