import "server-only";
import { authorize, authStrength, tokenRequest, type ConsoleSubject, type Decision, type PolicyClient } from "../policy";
import type { RoleName } from "./roles";
import { groupIds } from "../groups/membership";
import type { findActiveSession } from "./sessions";

// The signed-in user as every check sees it, made from the session row: the same whether the
// request came through Next.js (current.ts) or through the OpenID provider (portal-session.ts).

export type CurrentUser = {
  sessionId: string;
  id: string;
  email: string;
  name: string;
  roles: RoleName[];
  /** The ids of the groups the user is in (lib/groups): parents of the user in the policies. */
  groups: string[];
  /** Last MFA verification in this session (sign-in or step-up); null if none. */
  mfaVerifiedAt: Date | null;
  /** Last time the password was entered in this session (sign-in or re-confirmation); null if never. */
  passwordVerifiedAt: Date | null;
  /** How the session was authenticated, its sign-in's risk score and its device's trust: what policies see. */
  authMethods: string[];
  riskScore: number | null;
  deviceTrusted: boolean;
  /** The browser the session was signed in from (lib/devices): recorded on the audit events it causes. */
  deviceId: string | null;
};

type SessionRow = NonNullable<Awaited<ReturnType<typeof findActiveSession>>>;

export function toCurrentUser(row: SessionRow, now = new Date()): CurrentUser {
  const { user } = row;
  return {
    sessionId: row.id, id: user.id, email: user.email, name: user.name, roles: user.roles, groups: groupIds(user), mfaVerifiedAt: row.mfaVerifiedAt, passwordVerifiedAt: row.passwordVerifiedAt,
    authMethods: row.authMethods, riskScore: row.riskScore, deviceTrusted: !!row.device?.trustedUntil && row.device.trustedUntil > now, deviceId: row.deviceId,
  };
}

// Sensitive actions need an MFA verification this recent (or, from a user with no second factor,
// the password).
const STEP_UP_WINDOW_MS = 5 * 60_000;

const isFresh = (at: Date | null, now: Date) => !!at && now.getTime() - at.getTime() < STEP_UP_WINDOW_MS;

export function hasFreshMfa(user: CurrentUser, now = new Date()): boolean {
  return isFresh(user.mfaVerifiedAt, now);
}

/** Step-up for a user with no second factor: the password entered in the last few minutes. */
export function hasFreshPassword(user: CurrentUser, now = new Date()): boolean {
  return isFresh(user.passwordVerifiedAt, now);
}

/** What the access policies see of this user, asking from `ip`. */
export function policySubject(user: CurrentUser, ip: string | null): ConsoleSubject {
  return {
    userId: user.id, email: user.email, roles: user.roles, groups: user.groups, ip, risk: user.riskScore,
    authStrength: authStrength(user.authMethods), mfaFresh: hasFreshMfa(user), deviceTrusted: user.deviceTrusted,
  };
}

/** May this client have tokens for this user now (action issueToken), asked from `ip`? */
export function tokenIssuanceDecisionAt(user: CurrentUser, client: PolicyClient, ip: string | null): Promise<Decision> {
  return authorize(tokenRequest(policySubject(user, ip), client));
}
