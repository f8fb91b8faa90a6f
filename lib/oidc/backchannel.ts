import "server-only";
import { pgPool } from "../db/client";
import { audit, SYSTEM_CONTEXT } from "../audit";
import { getProvider } from "./provider";

// OpenID Connect Back-Channel Logout for sign-ins that end in Gatehouse rather than at the
// provider's sign-out page (which the library handles itself): a portal session signed out,
// revoked by its user or an admin, ended by a disabled account, a new password or an incident
// response. Each such session's provider sessions (the browsers' single sign-on, recorded in
// oauth_session_sign_ins) are ended, and every app signed in through them that has a back-channel
// logout URI gets a logout token naming the user and the sid of its ID token. One sweep picks up
// every way a session ends; the provider session is deleted by whichever instance sweeps first,
// and only that one sends.

const SESSIONS_PER_SWEEP = 100;

type ProviderSession = { accountId?: string; authorizations?: Record<string, { sid?: string }> };
// The library's Client has it; its type declarations do not.
type LoggingOutClient = { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> };

/** Ends the provider sessions of ended portal sessions and tells their apps; returns how many logout tokens were sent. */
export async function logOutOfApps(): Promise<number> {
  // A bounded batch per sweep: the first sweep after an upgrade finds every session ended before it.
  const { rows } = await pgPool().query<{ payload: ProviderSession }>(
    `DELETE FROM oidc_models WHERE kind = 'Session' AND id IN (
       SELECT m.id FROM oidc_models m JOIN oauth_session_sign_ins x ON m.uid = x.provider_session_uid JOIN sessions s ON s.id = x.session_id
       WHERE m.kind = 'Session' AND s.ended_at IS NOT NULL LIMIT ${SESSIONS_PER_SWEEP})
     RETURNING payload`,
  );
  if (rows.length === 0) return 0;
  const provider = await getProvider();
  const sends = rows.flatMap(({ payload }) =>
    Object.entries(payload.authorizations ?? {}).map(async ([clientId, { sid }]) => {
      const client = (await provider.Client.find(clientId)) as unknown as LoggingOutClient | undefined;
      if (!client?.backchannelLogoutUri || !payload.accountId || !sid) return false;
      const event = { type: "session" as const, resource: { type: "oauth_client", id: clientId }, metadata: { userId: payload.accountId, sid } };
      try {
        await client.backchannelLogout(payload.accountId, sid);
        await audit(SYSTEM_CONTEXT, { ...event, action: "oauth.backchannel_logout", outcome: "success" });
        return true;
      } catch (error) {
        // The app did not take it (down, or refused): on the record; its refresh tokens stop working all the same.
        await audit(SYSTEM_CONTEXT, { ...event, action: "oauth.backchannel_logout", outcome: "failure", metadata: { ...event.metadata, error: error instanceof Error ? error.message.slice(0, 300) : String(error) } });
        return false;
      }
    }),
  );
  return (await Promise.all(sends)).filter(Boolean).length;
}
