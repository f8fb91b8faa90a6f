import "server-only";
import { errors, type KoaContextWithOIDC } from "oidc-provider";
import { authorize, clientTokenRequest, tokenRequest, type Decision, type PolicyClient } from "../policy";
import type { RoleName } from "../auth/roles";
import { CLIENT_IP_HEADER } from "../http/client-ip";
import { strengthOfAmr } from "./amr";
import { sessionSignIn } from "./session-sign-ins";

// The access policies' issueToken action is asked at the token endpoint too, not only when a user
// signs in to an app: a refresh token is refused once the policies refuse this client tokens for
// its user (the token is not spent, so it works again if the policies change back), and a machine
// client's client-credentials grant is refused once they refuse it its own tokens. The context says
// which (`via` "refresh" or "client_credentials"), so a policy about people at sign-in can leave
// refreshes alone: at a refresh the IP is the caller's (the app's server), the risk score and the
// device are those of the portal sign-in behind the provider session the token was issued in
// (session-sign-ins.ts), there is no fresh MFA, and the authentication strength is the grant's.

export const POLICY_REFUSAL = "refused by the access policies";
const REVOKED_SIGN_IN = "the sign-in this token was issued in has been revoked";
export type PolicyRefusal = { error_detail: string; policyDecision: { action: "issueToken"; decision: string; policies: string[]; version: number; accountId: string | null } };

function refusal(error: InstanceType<typeof errors.InvalidGrant> | InstanceType<typeof errors.UnauthorizedClient>, decision: Decision, accountId: string | null) {
  return Object.assign(error, {
    error_description: "the access policies do not allow this client tokens now",
    error_detail: POLICY_REFUSAL,
    policyDecision: { action: "issueToken" as const, decision: decision.decision, policies: decision.policies, version: decision.version, accountId },
  });
}

const callerIp = (ctx: KoaContextWithOIDC) => ctx.get(CLIENT_IP_HEADER) || null;

/** A provider's client as the policies see it: by id, and by the name the console shows (its id if unnamed). */
export const policyClient = (client: { clientId: string; clientName?: string }): PolicyClient => ({ id: client.clientId, name: client.clientName ?? client.clientId });

/** Before a refresh token is used (and spent): may this client still have tokens for this user? */
export async function refuseRefreshUnlessAllowed(
  ctx: KoaContextWithOIDC,
  user: { id: string; email: string; roles: RoleName[]; groups: string[] },
  token: { clientId?: string; amr?: string[]; sessionUid?: string },
): Promise<void> {
  const clientId = token.clientId ?? ctx.oidc.client!.clientId;
  const { risk, deviceTrusted, revoked } = await sessionSignIn(token.sessionUid);
  // The user (or an admin, or an incident response) took back the sign-in this token came from.
  if (revoked) throw new errors.InvalidGrant(REVOKED_SIGN_IN);
  const subject = { userId: user.id, email: user.email, roles: user.roles, groups: user.groups, ip: callerIp(ctx), risk, authStrength: strengthOfAmr(token.amr), mfaFresh: false, deviceTrusted };
  const decision = await authorize(tokenRequest(subject, policyClient(ctx.oidc.client ?? { clientId }), new Date(), "refresh"));
  if (decision.decision !== "allow") throw refusal(new errors.InvalidGrant(POLICY_REFUSAL), decision, user.id);
}

/** Before a client-credentials token is issued: may this machine client have its own tokens? */
export async function refuseClientCredentialsUnlessAllowed(ctx: KoaContextWithOIDC): Promise<void> {
  const decision = await authorize(clientTokenRequest(policyClient(ctx.oidc.client!), callerIp(ctx)));
  if (decision.decision !== "allow") throw refusal(new errors.UnauthorizedClient(), decision, null);
}
