import "server-only";
import { pgPool } from "../db/client";
import { audit, SYSTEM_CONTEXT } from "../audit";
import { getProvider } from "./provider";

// OpenID Connect Back-Channel Logout for sign-ins that end in Gatehouse rather than at the
// provider's sign-out page (which the library handles itself). Two ways in:
// - logOutOfApps, a sweep: a portal session that ended (signed out, revoked by its user or an
//   admin, a new password elsewhere) ends its provider sessions (the browsers' single sign-on,
//   recorded in oauth_session_sign_ins);
// - endProviderSessionsOf: all of an account's provider sessions at once, when its grants are
//   revoked (disabled, deleted, factors or password reset, an incident response).
// Either way the provider session is deleted first, by one statement, so whichever instance
// deletes it is the only one that sends; every app signed in through it that has a back-channel
// logout URI gets a logout token naming the user and the sid of its ID token.

const SESSIONS_PER_SWEEP = 100;

type ProviderSession = { accountId?: string; authorizations?: Record<string, { sid?: string }> };
// The library's Client has it; its type declarations do not.
type LoggingOutClient = { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> };

/** Ends the provider sessions of ended portal sessions and tells their apps; returns how many logout tokens were accepted. */
export async function logOutOfApps(): Promise<number> {
  // The provider first: one that cannot start now must not cost the deleted sessions their logout.
  const provider = await getProvider();
  // A bounded batch per sweep: the first sweep after an upgrade finds every session ended before it.
  const { rows } = await pgPool().query<{ payload: ProviderSession }>(
    `DELETE FROM oidc_models WHERE kind = 'Session' AND id IN (
       SELECT m.id FROM oidc_models m JOIN oauth_session_sign_ins x ON m.uid = x.provider_session_uid JOIN sessions s ON s.id = x.session_id
       WHERE m.kind = 'Session' AND s.ended_at IS NOT NULL LIMIT ${SESSIONS_PER_SWEEP})
     RETURNING payload`,
  );
  return tellApps(provider, rows.map((row) => row.payload));
}

/** Ends every provider session of an account and tells their apps (the account's grants are being revoked); returns the sessions ended. */
export async function endProviderSessionsOf(accountId: string): Promise<number> {
  const { rows } = await pgPool().query<{ payload: ProviderSession }>(`DELETE FROM oidc_models WHERE kind = 'Session' AND account_id = $1 RETURNING payload`, [accountId]);
  // The revocation stands whatever happens to the telling (a provider that cannot start now).
  if (rows.length) {
    await getProvider()
      .then((provider) => tellApps(provider, rows.map((row) => row.payload)))
      .catch((error: unknown) => console.error("Back-channel logout failed:", error instanceof Error ? error.message : error));
  }
  return rows.length;
}

/** The audit event of one logout token: taken by the app, or not (`failure`: why). The provider's own sign-out page's are recorded with it too (events.ts). */
export function backchannelLogoutEvent(clientId: string, userId: string, sid: string, failure: string | null) {
  return {
    type: "session", action: "oauth.backchannel_logout", outcome: failure === null ? "success" : "failure", resource: { type: "oauth_client", id: clientId },
    metadata: { userId, sid, ...(failure !== null && { error: failure.slice(0, 300) }) },
  } as const;
}

async function tellApps(provider: Awaited<ReturnType<typeof getProvider>>, sessions: ProviderSession[]): Promise<number> {
  const sends = sessions.flatMap(({ accountId, authorizations }) =>
    Object.entries(authorizations ?? {}).map(async ([clientId, { sid }]) => {
      if (!accountId || !sid) return false;
      let failure: string | null = null;
      try {
        // A disabled or deleted client is not found: its tokens are revoked already, and it is told nothing.
        const client = (await provider.Client.find(clientId)) as unknown as LoggingOutClient | undefined;
        if (!client?.backchannelLogoutUri) return false;
        await client.backchannelLogout(accountId, sid);
      } catch (error) {
        // The app did not take it (down, or refused): on the record; its refresh tokens stop working all the same.
        failure = error instanceof Error ? error.message : String(error);
      }
      await audit(SYSTEM_CONTEXT, backchannelLogoutEvent(clientId, accountId, sid, failure));
      return failure === null;
    }),
  );
  return (await Promise.all(sends)).filter(Boolean).length;
}
