// Server actions run for real in integration tests, with the request's session swapped in: a test
// file imports this module before it imports any action module (dynamically, after), and says who
// is signed in with actAs(). The request comes from client(), typed into the address bar.
import { expect, vi } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { findActiveSession } from "@/lib/auth/sessions";
import { completeMfaStep } from "@/lib/auth/mfa-step";
import type { RoleName } from "@/lib/auth/roles";
import { toCurrentUser, type CurrentUser } from "@/lib/auth/session-user";
import { codeAt, withTotp } from "./mfa";
import { TEST_PASSWORD, client, ctx } from "./factories";

let signedIn: CurrentUser | null = null;

/** Who the actions see as signed in (null: nobody); returns them. */
export function actAs<U extends CurrentUser | null>(user: U): U {
  signedIn = user;
  return user;
}

vi.mock("@/lib/auth/current", async (importOriginal) => ({ ...(await importOriginal<object>()), currentUser: async () => signedIn, currentPendingSignIn: async () => null }));
vi.mock("@/lib/auth/next-auth", () => ({ auth: async () => null, signIn: async () => undefined, signOut: async () => undefined, handlers: {}, ThrottledSignIn: class {}, RefusedSignIn: class {} }));
vi.mock("@/lib/http/request-context", () => ({ requestContext: async () => client(), requestPath: async () => "/" }));
vi.mock("next/cache", () => ({ revalidatePath: () => undefined }));
// Route handlers read Fetch Metadata: a request typed into the address bar.
vi.mock("next/headers", () => ({ headers: async () => new Headers({ "sec-fetch-site": "none" }) }));

/** Someone with `roles` and TOTP, signed in with it; their MFA check was `minutesAgo` minutes ago. */
export async function signedInWithTotp(roles: RoleName[], minutesAgo = 0): Promise<CurrentUser> {
  const { user, secret } = await withTotp(roles);
  const result = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
  if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
  const pending = { ...toCurrentUser((await findActiveSession(result.sessionId))!), stage: "mfa_required" as const, requiredFactor: "any" as const };
  expect(await completeMfaStep(pending, { method: "totp", code: await codeAt(secret, new Date()) }, false, ctx)).toMatchObject({ ok: true });
  await db().session.update({ where: { id: result.sessionId }, data: { mfaVerifiedAt: new Date(Date.now() - minutesAgo * 60_000) } });
  return toCurrentUser((await findActiveSession(result.sessionId))!);
}
