import "server-only";
import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { requestContext } from "../http/request-context";
import { readDeviceToken, writeDeviceToken } from "../devices";
import { signInWithPasskey, signInWithPassword, type RefusalReason, type SignInResult } from "./sign-in";
import { cookies } from "next/headers";
import { reissuedSessionCookie, secureSessionCookie, sessionCookieMaxAgeSeconds } from "./portal-session";
import { signOutCookieSession } from "./sessions";

// next-auth owns the cookie (an encrypted JWT); the JWT carries only our session row's id,
// and the row is checked on every request (see current.ts). That keeps sessions listable and
// revocable, which next-auth's own JWT sessions are not.

export class ThrottledSignIn extends CredentialsSignin {
  constructor(readonly retryAfterSeconds: number) {
    super();
    this.code = "throttled";
  }
}

/** The risk engine or a missing factor refused the sign-in (see lib/auth/sign-in.ts). */
export class RefusedSignIn extends CredentialsSignin {
  constructor(readonly refusal: RefusalReason, readonly retryAfterSeconds: number | undefined) {
    super();
    this.code = refusal;
  }
}

declare module "next-auth" {
  interface User {
    sessionId?: string;
  }
}
declare module "@auth/core/jwt" {
  interface JWT {
    sid?: string;
    uid?: string;
    /** The session's cookie generation when this cookie was issued (Session.cookieGeneration). */
    gen?: number;
  }
}

type Pipeline = (input: unknown, client: Awaited<ReturnType<typeof requestContext>>, deviceToken: string | null) => Promise<SignInResult>;

async function authorizeWith(pipeline: Pipeline, credentials: unknown) {
  const result = await pipeline(credentials, await requestContext(), await readDeviceToken());
  if (result.ok) {
    if (result.newDeviceToken) await writeDeviceToken(result.newDeviceToken);
    return { id: result.userId, sessionId: result.sessionId };
  }
  if (result.reason === "throttled") throw new ThrottledSignIn(result.retryAfterSeconds);
  if (result.reason === "refused") throw new RefusedSignIn(result.refusal, result.retryAfterSeconds);
  return null;
}

export const { handlers, auth, signIn, signOut } = NextAuth({
  trustHost: true,
  // From the public URL, not the request: a client's X-Forwarded-Proto must not decide whether the
  // session cookie is Secure (portal-session.ts reads and re-issues the cookie by the same rule).
  useSecureCookies: secureSessionCookie(),
  // A wrong password is an expected outcome (audited in lib/auth), not a server error to log.
  logger: {
    error(error) {
      if (error instanceof CredentialsSignin) return;
      console.error(`[auth] ${error.name}: ${error.message}`);
    },
  },
  session: { strategy: "jwt", maxAge: sessionCookieMaxAgeSeconds() },
  pages: { signIn: "/sign-in", error: "/sign-in" },
  providers: [
    Credentials({
      id: "credentials",
      credentials: { email: {}, password: {} },
      authorize: (credentials) => authorizeWith(signInWithPassword, credentials),
    }),
    Credentials({
      id: "passkey",
      credentials: { challengeId: {}, response: {} },
      authorize: (credentials) => authorizeWith(signInWithPasskey, credentials),
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user?.sessionId) {
        token.sid = user.sessionId;
        token.uid = user.id;
        token.gen = 0;
      }
      return token;
    },
    // Only ids leave the server in the session object; pages read the row through current.ts.
    session({ session, token }) {
      return { ...session, sid: token.sid, uid: token.uid, gen: token.gen ?? 0 };
    },
  },
  events: {
    async signOut(message) {
      const token = "token" in message ? message.token : null;
      if (token?.sid && token.uid) {
        const client = await requestContext();
        await signOutCookieSession({ sid: token.sid, uid: token.uid, gen: token.gen ?? 0 }, { actor: { type: "user", id: token.uid, label: null }, client });
      }
    },
  },
});


/**
 * After a sign-in passes its MFA step, this browser's cookie is issued again for the session's new
 * generation: a copy of the old cookie (stolen, or planted in this browser by someone who knew the
 * password) is worth nothing from now on.
 */
export async function renewSessionCookie(): Promise<void> {
  const jar = await cookies();
  const issued = await reissuedSessionCookie((name) => jar.get(name)?.value);
  if (issued) jar.set(issued.name, issued.value, issued.options);
}
