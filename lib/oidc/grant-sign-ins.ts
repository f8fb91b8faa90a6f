import "server-only";
import { db, pgPool } from "../db/client";
import { portalUserFromCookie } from "../auth/portal-session";

// Which portal sign-in last let an app in on a grant. A refresh comes from the app's server, with
// no browser, no device and no sign-in of its own to assess; the access policies then see the
// risk score of that sign-in and whether its device is trusted now (a user who stops trusting a
// device takes that back from the apps it let in too).

/** Records the portal session that just let an app in on this grant (at every authorization). */
export async function rememberGrantSignIn(grantId: string, sessionId: string): Promise<void> {
  await db().oAuthGrantSignIn.upsert({ where: { grantId }, create: { grantId, sessionId }, update: { sessionId } });
}

/** After an authorization: the browser's portal session, if it is the grant's user's, is the grant's sign-in now. */
export async function rememberGrantSignInOfBrowser(grant: { jti?: string; accountId?: string } | undefined, readCookie: (name: string) => string | undefined): Promise<void> {
  if (!grant?.jti) return;
  const user = await portalUserFromCookie(readCookie);
  if (user && user.id === grant.accountId) await rememberGrantSignIn(grant.jti, user.sessionId);
}

export type GrantSignIn = { risk: number | null; deviceTrusted: boolean };

/** What a refresh of this grant is judged by; a grant with no recorded sign-in gets no risk score and no trusted device. */
export async function grantSignIn(grantId: string | undefined): Promise<GrantSignIn> {
  if (!grantId) return { risk: null, deviceTrusted: false };
  // On node-postgres, like the provider's own storage: this runs on every refresh.
  const { rows } = await pgPool().query<{ risk_score: number | null; device_trusted: boolean }>(
    `SELECT s.risk_score, coalesce(d.trusted_until > now(), false) AS device_trusted
     FROM oauth_grant_sign_ins g JOIN sessions s ON s.id = g.session_id LEFT JOIN devices d ON d.id = s.device_id
     WHERE g.grant_id = $1`,
    [grantId],
  );
  return rows[0] ? { risk: rows[0].risk_score, deviceTrusted: rows[0].device_trusted } : { risk: null, deviceTrusted: false };
}
