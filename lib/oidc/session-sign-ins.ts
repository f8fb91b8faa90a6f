import "server-only";
import { db, pgPool } from "../db/client";
import { portalUserFromCookie } from "../auth/portal-session";
import { REVOKING_END_REASONS } from "../auth/sessions";

// Which portal sign-in is behind a provider session (one browser's single sign-on for one
// account). A refresh comes from the app's server, with no browser, no device and no sign-in of its
// own to assess; every refresh token remembers the provider session it was issued in, and the
// access policies then see the risk score of that session's sign-in and whether its device is
// trusted now (a user who stops trusting a device takes that back from the apps it let in too).
// Per provider session, not per grant: one grant serves every browser in which the user lets the
// same app in, and one browser's sign-in must not vouch for another's tokens.

/** After an authorization: the browser's portal session, if it is the provider session's user's, is that session's sign-in now. */
export async function rememberSessionSignIn(providerSession: { uid?: string; accountId?: string } | undefined, readCookie: (name: string) => string | undefined): Promise<void> {
  if (!providerSession?.uid || !providerSession.accountId) return;
  const user = await portalUserFromCookie(readCookie);
  if (!user || user.id !== providerSession.accountId) return;
  const providerSessionUid = providerSession.uid;
  await db().oAuthSessionSignIn.upsert({ where: { providerSessionUid }, create: { providerSessionUid, sessionId: user.sessionId }, update: { sessionId: user.sessionId } });
}

/**
 * Is this portal session the sign-in recorded behind the provider session? Not after the user
 * signed out and in again in the same browser: the provider session still describes the old
 * sign-in (its methods and time, which ID tokens carry), so the login prompt must run again.
 */
export async function isSessionSignIn(providerSessionUid: string | undefined, sessionId: string): Promise<boolean> {
  if (!providerSessionUid) return false;
  const { rows } = await pgPool().query(`SELECT 1 FROM oauth_session_sign_ins WHERE provider_session_uid = $1 AND session_id = $2`, [providerSessionUid, sessionId]);
  return rows.length > 0;
}

/** `revoked`: the sign-in was taken back (revoked, reported as not the user's, ended by an incident response). */
export type SessionSignIn = { risk: number | null; deviceTrusted: boolean; revoked: boolean };

/** What a refresh of a token issued in this provider session is judged by; with no recorded sign-in, no risk score and no trusted device. */
export async function sessionSignIn(providerSessionUid: string | undefined): Promise<SessionSignIn> {
  if (!providerSessionUid) return { risk: null, deviceTrusted: false, revoked: false };
  // On node-postgres, like the provider's own storage: this runs on every refresh.
  const { rows } = await pgPool().query<{ risk_score: number | null; device_trusted: boolean; revoked: boolean }>(
    `SELECT s.risk_score, coalesce(d.trusted_until > now(), false) AS device_trusted, coalesce(s.end_reason = ANY($2), false) AS revoked
     FROM oauth_session_sign_ins x JOIN sessions s ON s.id = x.session_id LEFT JOIN devices d ON d.id = s.device_id
     WHERE x.provider_session_uid = $1`,
    [providerSessionUid, REVOKING_END_REASONS],
  );
  const row = rows[0];
  return row ? { risk: row.risk_score, deviceTrusted: row.device_trusted, revoked: row.revoked } : { risk: null, deviceTrusted: false, revoked: false };
}

/** Forgets the sign-ins of provider sessions that no session, code or token refers to any more (an hour's grace): an access token of a sign-in taken back is refused by it. */
export async function sweepSessionSignIns(): Promise<void> {
  await pgPool().query(
    `DELETE FROM oauth_session_sign_ins WHERE updated_at < now() - interval '1 hour' AND provider_session_uid NOT IN (
       SELECT uid FROM oidc_models WHERE kind = 'Session' AND uid IS NOT NULL
       UNION SELECT payload->>'sessionUid' FROM oidc_models WHERE kind IN ('RefreshToken', 'AuthorizationCode', 'AccessToken') AND payload ? 'sessionUid')`,
  );
}
