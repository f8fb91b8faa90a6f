import "server-only";
import { decode } from "next-auth/jwt";
import { readConfig } from "../config";
import { endSession } from "./sessions";

// Kept apart from next-auth.ts (which loads next-auth's Next.js integration) so that lib/oidc,
// which also runs outside Next's request scope and in tests, can call it.
// next-auth's cookie name: "__Secure-" when the site is served over https.
const SESSION_COOKIES = ["__Secure-authjs.session-token", "authjs.session-token"] as const;

/**
 * Single logout: the OpenID provider's end-session (RP-initiated logout) also ends the portal
 * session of the browser that asked, read from its next-auth cookie (outside Next's request scope).
 */
export async function endPortalSessionFromCookie(readCookie: (name: string) => string | undefined, client: { ip: string | null; userAgent: string | null }): Promise<boolean> {
  const secret = readConfig().AUTH_SECRET;
  for (const name of SESSION_COOKIES) {
    const value = readCookie(name);
    if (!value || !secret) continue;
    const token = await decode({ token: value, secret, salt: name }).catch(() => null);
    if (token?.sid && token.uid) {
      return endSession(token.uid, token.sid, "sign_out", { actor: { type: "user", id: token.uid, label: null }, client });
    }
  }
  return false;
}
