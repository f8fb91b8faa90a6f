import "server-only";
import { decode } from "next-auth/jwt";
import { readConfig } from "../config";
import { endSession, findActiveSession } from "./sessions";
import { toCurrentUser, type CurrentUser } from "./session-user";

// The portal session of the browser behind an OpenID provider request, read from its next-auth
// cookie. Kept apart from next-auth.ts (which loads next-auth's Next.js integration) so that
// lib/oidc, which runs outside Next's request scope and in tests, can call it.
// next-auth's cookie name: "__Secure-" when the site is served over https.
const SESSION_COOKIES = ["__Secure-authjs.session-token", "authjs.session-token"] as const;

type ReadCookie = (name: string) => string | undefined;

async function sessionCookie(readCookie: ReadCookie): Promise<{ sid: string; uid: string } | null> {
  const secret = readConfig().AUTH_SECRET;
  for (const name of SESSION_COOKIES) {
    const value = readCookie(name);
    if (!value || !secret) continue;
    const token = await decode({ token: value, secret, salt: name }).catch(() => null);
    if (typeof token?.sid === "string" && typeof token.uid === "string") return { sid: token.sid, uid: token.uid };
  }
  return null;
}

/** The signed-in portal user of this browser, if its session is still active (not ended, expired or pending a step). */
export async function portalUserFromCookie(readCookie: ReadCookie): Promise<CurrentUser | null> {
  const cookie = await sessionCookie(readCookie);
  const row = cookie ? await findActiveSession(cookie.sid) : null;
  return row?.stage === "active" && row.user.id === cookie?.uid ? toCurrentUser(row) : null;
}

/**
 * Single logout: the OpenID provider's end-session (RP-initiated logout) also ends the portal
 * session of the browser that asked, when it is the same user's (signing out of an app must not
 * sign another account out of the portal).
 */
export async function endPortalSessionFromCookie(readCookie: ReadCookie, accountId: string, client: { ip: string | null; userAgent: string | null }): Promise<boolean> {
  const cookie = await sessionCookie(readCookie);
  if (cookie?.uid !== accountId) return false;
  return endSession(cookie.uid, cookie.sid, "sign_out", { actor: { type: "user", id: cookie.uid, label: null }, client });
}
