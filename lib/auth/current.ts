import "server-only";
import { cache } from "react";
import { redirect } from "next/navigation";
import { requestPath } from "../http/request-context";
import { auth } from "./next-auth";
import { findSessionForCookie } from "./sessions";
import { toCurrentUser, type CurrentUser } from "./session-user";

export { hasFreshMfa, type CurrentUser } from "./session-user";

/**
 * A sign-in that passed its first factor but still owes the MFA step, a factor enrollment, or the new
 * password an administrator required. None of these reach the app: currentUser() is null for them.
 */
export type PendingSignIn = CurrentUser & { stage: PendingStage; requiredFactor: "any" | "passkey" };
export type PendingStage = "mfa_required" | "enrollment_required" | "password_change_required";

const sessionBehindRequest = cache(async () => {
  const session = (await auth()) as { sid?: string; uid?: string; gen?: number } | null;
  if (!session?.sid || !session.uid) return null;
  return findSessionForCookie({ sid: session.sid, uid: session.uid, gen: session.gen ?? 0 });
});

/** The signed-in user behind this request, checked against the session row; once per request. */
export const currentUser = cache(async (): Promise<CurrentUser | null> => {
  const row = await sessionBehindRequest();
  return row?.stage === "active" ? toCurrentUser(row) : null;
});

export const currentPendingSignIn = cache(async (): Promise<PendingSignIn | null> => {
  const row = await sessionBehindRequest();
  if (!row || row.stage === "active") return null;
  return { ...toCurrentUser(row), stage: row.stage, requiredFactor: row.requiredFactor === "passkey" ? "passkey" : "any" };
});

const PENDING_STAGE_PATHS: Record<PendingStage, string> = {
  mfa_required: "/sign-in/verify",
  enrollment_required: "/sign-in/enroll",
  password_change_required: "/sign-in/new-password",
};

/** The page where a pending sign-in finishes its stage, returning to `callbackUrl` after. */
export const pendingStageUrl = (stage: PendingStage, callbackUrl: string) => `${PENDING_STAGE_PATHS[stage]}?callbackUrl=${encodeURIComponent(callbackUrl)}`;

/** For pages and layouts: signed out → sign-in page (or the pending sign-in's next step), coming back here after. */
export async function requireUser(): Promise<CurrentUser> {
  const user = await currentUser();
  if (user) return user;
  const back = await requestPath();
  const pending = await currentPendingSignIn();
  redirect(pending ? pendingStageUrl(pending.stage, back) : `/sign-in?callbackUrl=${encodeURIComponent(back)}`);
}


