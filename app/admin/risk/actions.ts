"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { actingOnRefusal, findUser, guardedAction } from "@/lib/auth";
import { addIpRule, ipRuleKind, IpRuleRefusedError, newIpRuleSchema, newRiskSettingsSchema, removeIpRule, saveRiskSettings, trustAttemptPlace, type TrustRefusal } from "@/lib/risk";

// Analysts answer attacks (IP lists); only admins change how risk is scored.

// An allow rule, and removing a block rule, let addresses past the risk engine's blocks: they need a
// fresh second factor. Adding a block rule or removing an allow rule does not, so that answering an
// attack stays quick.
export const addIpRuleAction = guardedAction({ section: "risk", action: "manage" }, newIpRuleSchema, async (input, _user, ctx) => {
  try {
    const rule = await addIpRule(input, ctx);
    revalidatePath("/admin/risk/ip-rules");
    return { ok: true, message: `${rule.cidr} is now on the ${rule.kind} list.` };
  } catch (error) {
    if (error instanceof IpRuleRefusedError) return { ok: false, fieldErrors: { cidr: [error.message] } };
    throw error;
  }
}, { stepUp: ({ kind }) => kind === "allow" });

export const removeIpRuleAction = guardedAction({ section: "risk", action: "manage" }, z.object({ id: z.uuid() }), async ({ id }, _user, ctx) => {
  const removed = await removeIpRule(id, ctx);
  revalidatePath("/admin/risk/ip-rules");
  return removed ? { ok: true, message: "Rule removed." } : { ok: false, message: "That rule no longer exists." };
}, { stepUp: async ({ id }) => (await ipRuleKind(id)) === "block" });

// Vouching for a place lowers the risk of the next sign-in from it, like an allow rule: step-up.
const TRUST_REFUSALS: Record<TrustRefusal, string> = {
  not_found: "That attempt is no longer recorded.",
  no_account: "That attempt names no account.",
  not_held: "Only a sign-in the risk engine refused or blocked for where or when it came from, after its password or passkey proved right, is trusted here (a source blocked before its password was checked proved nothing); one that went through is learned from when it completes.",
  already_trusted: "This attempt's place is trusted already.",
  not_permitted: "Its account no longer exists, or has roles or console access you lack (only an admin acts on those).",
};

export const trustAttemptPlaceAction = guardedAction({ section: "risk", action: "manage" }, z.object({ attemptId: z.uuid() }), async ({ attemptId }, user, ctx) => {
  // An analyst may not seed an admin's history: the same rule as acting on the account itself.
  const mayActOn = async (userId: string) => !!(await findUser(userId)) && (await actingOnRefusal(user, userId, "risk.place.trust", ctx)) === null;
  const result = await trustAttemptPlace(attemptId, ctx, mayActOn);
  if (!result.ok) return { ok: false, message: TRUST_REFUSALS[result.refusal] };
  revalidatePath(`/admin/risk/attempts/${attemptId}`);
  return { ok: true, message: "This place is now part of the account's history: the next sign-in from it is not new or impossible travel." };
}, { stepUp: true });

// The form posts flat names ("weights.new_device", "thresholds.mfa"); the schema wants them nested.
const settingsForm = z
  .record(z.string(), z.unknown())
  .transform((flat) => {
    const nested: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(flat)) {
      const [group, field] = key.split(".");
      if (group && field) nested[group] = { ...(nested[group] as object), [field]: value };
      else nested[key] = value;
    }
    return nested;
  })
  .pipe(newRiskSettingsSchema.and(z.object({ comment: z.string().trim().min(3, "Say why, for the history.").max(300), baseVersion: z.coerce.number().int().min(0).max(2 ** 31 - 1) })));

export const saveRiskSettingsAction = guardedAction(
  // How sign-ins are judged is policy: admins only, by the built-in policies.
  { section: "policies", action: "manage" },
  settingsForm,
  async ({ comment, baseVersion, ...settings }, _user, ctx) => {
    const saved = await saveRiskSettings(newRiskSettingsSchema.parse(settings), comment, ctx, baseVersion);
    revalidatePath("/admin/risk/settings");
    if (!saved.ok) return { ok: false, message: `Version ${saved.newest} was saved after this page showed version ${baseVersion}: nothing was saved. Reload the page to see it, then make your change again.` };
    return { ok: true, message: `Saved as version ${saved.version}. It applies to the next sign-in on every instance.` };
  },
  { stepUp: true },
);
