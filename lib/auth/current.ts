import "server-only";
import { cache } from "react";
import { redirect } from "next/navigation";
import { requestPath } from "../http/request-context";
import { auth } from "./next-auth";
import { findActiveSession } from "./sessions";
import type { RoleName } from "./roles";

export type CurrentUser = {
  sessionId: string;
  id: string;
  email: string;
  name: string;
  roles: RoleName[];
  /** Last MFA verification in this session (sign-in or step-up); null if none. */
  mfaVerifiedAt: Date | null;
  /** How the session was authenticated, its sign-in's risk score and its device's trust: what policies see. */
  authMethods: string[];
  riskScore: number | null;
  deviceTrusted: boolean;
};

/**
 * A sign-in that passed its first factor but still owes the MFA step, a factor enrollment, or the new
 * password an administrator required. None of these reach the app: currentUser() is null for them.
 */
export type PendingSignIn = CurrentUser & { stage: PendingStage; requiredFactor: "any" | "passkey" };
export type PendingStage = "mfa_required" | "enrollment_required" | "password_change_required";

const sessionBehindRequest = cache(async () => {
  const session = (await auth()) as { sid?: string } | null;
  return session?.sid ? findActiveSession(session.sid) : null;
});

function toUser(row: NonNullable<Awaited<ReturnType<typeof sessionBehindRequest>>>): CurrentUser {
  const { user } = row;
  return {
    sessionId: row.id, id: user.id, email: user.email, name: user.name, roles: user.roles, mfaVerifiedAt: row.mfaVerifiedAt,
    authMethods: row.authMethods, riskScore: row.riskScore, deviceTrusted: !!row.device?.trustedUntil && row.device.trustedUntil > new Date(),
  };
}

/** The signed-in user behind this request, checked against the session row; once per request. */
export const currentUser = cache(async (): Promise<CurrentUser | null> => {
  const row = await sessionBehindRequest();
  return row?.stage === "active" ? toUser(row) : null;
});

export const currentPendingSignIn = cache(async (): Promise<PendingSignIn | null> => {
  const row = await sessionBehindRequest();
  if (!row || row.stage === "active") return null;
  return { ...toUser(row), stage: row.stage, requiredFactor: row.requiredFactor === "passkey" ? "passkey" : "any" };
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


// Sensitive actions need an MFA verification this recent (when the user has a second factor).
export const STEP_UP_WINDOW_MS = 5 * 60_000;

export function hasFreshMfa(user: CurrentUser, now = new Date()): boolean {
  return !!user.mfaVerifiedAt && now.getTime() - user.mfaVerifiedAt.getTime() < STEP_UP_WINDOW_MS;
}
