import "server-only";
import { decode, encode } from "next-auth/jwt";
import { publicUrl, readConfig } from "../config";
import { db } from "../db/client";
import { findSessionForCookie, signOutCookieSession, type SessionCookie } from "./sessions";
import { toCurrentUser, type CurrentUser } from "./session-user";

// The portal session's cookie, read and re-issued outside next-auth's own handlers: the OpenID
// provider reads it (lib/oidc runs outside Next's request scope and in tests), and a sign-in that
// passes its MFA step gets it re-issued with the session's new generation. Kept apart from
// next-auth.ts (which loads next-auth's Next.js integration) for lib/oidc's sake.
/** Whether the session cookie is Secure (and "__Secure-" named): by the public URL, never by a request's X-Forwarded-Proto. next-auth.ts configures next-auth with it. */
export const secureSessionCookie = () => publicUrl().protocol === "https:";
/** The session cookie's lifetime, as next-auth.ts gives it to next-auth. */
export const sessionCookieMaxAgeSeconds = () => readConfig().GATEHOUSE_SESSION_HOURS * 3600;
const sessionCookieName = () => (secureSessionCookie() ? "__Secure-authjs.session-token" : "authjs.session-token");

type ReadCookie = (name: string) => string | undefined;

/** The session cookie of this browser (decrypted and checked by next-auth's JWT code), with its name. */
async function sessionCookie(readCookie: ReadCookie): Promise<(SessionCookie & { name: string }) | null> {
  const secret = readConfig().AUTH_SECRET;
  const name = sessionCookieName();
  const value = readCookie(name);
  if (!value || !secret) return null;
  const token = await decode({ token: value, secret, salt: name }).catch(() => null);
  // A cookie from before generations were kept has none: it is of the first (0).
  const gen = token?.gen ?? 0;
  return typeof token?.sid === "string" && typeof token.uid === "string" && Number.isInteger(gen) ? { name, sid: token.sid, uid: token.uid, gen } : null;
}

/** The signed-in portal user of this browser, if its session is still active (not ended, expired or pending a step). */
export async function portalUserFromCookie(readCookie: ReadCookie): Promise<CurrentUser | null> {
  const cookie = await sessionCookie(readCookie);
  const row = cookie ? await findSessionForCookie(cookie) : null;
  return row?.stage === "active" ? toCurrentUser(row) : null;
}

export type IssuedCookie = { name: string; value: string; options: { httpOnly: true; sameSite: "lax"; path: "/"; secure: boolean; expires: Date } };

/**
 * The browser's session cookie issued again for its session's next generation, after the sign-in
 * passed its MFA step (lib/auth/sessions.ts raises the generation by one): the request that did it
 * gets the only cookie that works from now on. Only a cookie of the generation just before is
 * issued again (a copy older still stays worthless). Same name, flags and lifetime as next-auth's
 * own. Null if the browser has no such cookie or its session has ended.
 */
export async function reissuedSessionCookie(readCookie: ReadCookie): Promise<IssuedCookie | null> {
  const cookie = await sessionCookie(readCookie);
  const secret = readConfig().AUTH_SECRET;
  if (!cookie || !secret) return null;
  const row = await db().session.findFirst({ where: { id: cookie.sid, userId: cookie.uid, endedAt: null }, select: { cookieGeneration: true } });
  if (row?.cookieGeneration !== cookie.gen + 1) return null;
  const maxAge = sessionCookieMaxAgeSeconds();
  const token = { sub: cookie.uid, sid: cookie.sid, uid: cookie.uid, gen: row.cookieGeneration };
  const value = await encode({ token, secret, salt: cookie.name, maxAge });
  const secure = cookie.name.startsWith("__Secure-");
  return { name: cookie.name, value, options: { httpOnly: true, sameSite: "lax", path: "/", secure, expires: new Date(Date.now() + maxAge * 1000) } };
}

/**
 * Single logout: the OpenID provider's end-session (RP-initiated logout) also ends the portal
 * session of the browser that asked, when it is the same user's (signing out of an app must not
 * sign another account out of the portal).
 */
export async function endPortalSessionFromCookie(readCookie: ReadCookie, accountId: string, client: { ip: string | null; userAgent: string | null }): Promise<boolean> {
  const cookie = await sessionCookie(readCookie);
  if (cookie?.uid !== accountId) return false;
  return signOutCookieSession(cookie, { actor: { type: "user", id: cookie.uid, label: null }, client });
}
