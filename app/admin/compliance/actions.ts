"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { guardedAction } from "@/lib/auth";
import {
  accessDecisionSchema, approveException, completeAccessReview, decideAccess, exceptionRequestSchema, keepSignInOnlyAccounts, requestException, revokeException, runControlTests, startAccessReview,
} from "@/lib/compliance";

// Running the tests only reads the system and records what it saw: auditors, who may only view,
// may run them. Exceptions accept risk: "manage" (admins, by the policies); approving one also
// needs a fresh MFA verification, and a second person (lib/compliance/exceptions.ts). Access
// reviews are "manage" too; signing one off needs a fresh MFA verification, and nobody decides on
// their own account (lib/compliance/access-reviews.ts).

const VIEW = { section: "compliance", action: "view" } as const;
const MANAGE = { section: "compliance", action: "manage" } as const;
const exceptionId = z.object({ exceptionId: z.uuid() });

export const runTestsAction = guardedAction(VIEW, z.object({}), async (_input, _user, ctx) => {
  const { results } = await runControlTests("manual", ctx);
  revalidatePath("/admin/compliance", "layout");
  const failing = results.filter((r) => r.status !== "pass").length;
  return { ok: true, message: `${results.length} tests ran: ${results.length - failing} passed, ${failing} failed.` };
});

export const requestExceptionAction = guardedAction(MANAGE, exceptionRequestSchema, async (input, _user, ctx) => {
  await requestException(input, ctx);
  revalidatePath("/admin/compliance", "layout");
  return { ok: true, message: `Exception for ${input.control} requested. Another admin must approve it before it counts.` };
});

export const approveExceptionAction = guardedAction(MANAGE, exceptionId, async ({ exceptionId: id }, _user, ctx) => {
  const result = await approveException(id, ctx);
  revalidatePath("/admin/compliance", "layout");
  return result.ok ? { ok: true, message: "Exception approved." } : { ok: false, message: result.error };
}, { stepUp: true });

export const revokeExceptionAction = guardedAction(MANAGE, exceptionId, async ({ exceptionId: id }, _user, ctx) => {
  const result = await revokeException(id, ctx);
  revalidatePath("/admin/compliance", "layout");
  return result.ok ? { ok: true, message: "Exception ended." } : { ok: false, message: result.error };
});

const reviewId = z.object({ reviewId: z.uuid() });
const reviewPath = (id: string) => `/admin/compliance/access-reviews/${id}`;
const answer = (result: { ok: true; message: string } | { ok: false; error: string }) => (result.ok ? { ok: true, message: result.message } : { ok: false, message: result.error });

export const startAccessReviewAction = guardedAction(MANAGE, z.object({}), async (_input, _user, ctx) => {
  const result = await startAccessReview(ctx);
  revalidatePath("/admin/compliance", "layout");
  if (!result.ok || !result.id) return answer(result);
  redirect(reviewPath(result.id));
});

export const decideAccessAction = guardedAction(MANAGE, accessDecisionSchema, async (input, _user, ctx) => {
  const result = await decideAccess(input, ctx);
  revalidatePath(reviewPath(input.reviewId));
  return answer(result);
});

export const keepSignInOnlyAction = guardedAction(MANAGE, reviewId, async ({ reviewId: id }, _user, ctx) => {
  const result = await keepSignInOnlyAccounts(id, ctx);
  revalidatePath(reviewPath(id));
  return answer(result);
});

export const completeAccessReviewAction = guardedAction(MANAGE, reviewId, async ({ reviewId: id }, _user, ctx) => {
  const result = await completeAccessReview(id, ctx);
  revalidatePath("/admin/compliance", "layout");
  return answer(result);
}, { stepUp: true });
