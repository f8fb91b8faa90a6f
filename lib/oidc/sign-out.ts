import "server-only";
import type { KoaContextWithOIDC } from "oidc-provider";
import { rememberedGrantIds } from "./consents";

// What a sign-out at the provider (its end_session, also the logout it posts by itself when another
// account signs in to the same browser) does to the grants of the session. The library revokes
// their tokens in any case (by grant); left to itself it also destroys every grant, which took a
// consent the user asked to remember with it, so the next sign-in asked again. Here a grant a
// remembered consent points at outlives the sign-out, as the consent page promises, and the others
// (consents for that sign-in only) end as before.

type Authorization = { grantId?: string; persistsLogout?: boolean };
type SignOutSession = { authorizations?: Record<string, Authorization>; state?: { clientId?: string } };

const ending = new WeakMap<KoaContextWithOIDC, Promise<void>>();

/**
 * Ends the grants a sign-out ends, but those a remembered consent points at (oidc-provider's
 * revokeGrantPolicy asks once for each grant it revokes, and is then told to keep them all): each
 * is destroyed and announced as the library would (grant.revoked, which forgets its consent:
 * events.ts). Once per request.
 */
export function endSignInOnlyGrants(ctx: KoaContextWithOIDC): Promise<void> {
  let done = ending.get(ctx);
  if (!done) {
    done = destroySignInOnlyGrants(ctx);
    ending.set(ctx, done);
  }
  return done;
}

async function destroySignInOnlyGrants(ctx: KoaContextWithOIDC): Promise<void> {
  const session = ctx.oidc.session as unknown as SignOutSession | undefined;
  const authorizations = session?.authorizations ?? {};
  // As the library chooses (end_session.js): every app's on "sign out everywhere", else the app
  // signing out; never one whose tokens are meant to outlive the session (offline access).
  const clientIds = ctx.oidc.params?.logout ? Object.keys(authorizations) : [session?.state?.clientId].filter((id): id is string => !!id);
  const grantIds = clientIds.flatMap((id) => {
    const authorization = authorizations[id];
    return authorization?.grantId && !authorization.persistsLogout ? [authorization.grantId] : [];
  });
  const remembered = await rememberedGrantIds(grantIds);
  const grants = ctx.oidc.provider.Grant as unknown as { adapter: { destroy(id: string): Promise<void> } };
  for (const grantId of grantIds.filter((id) => !remembered.has(id))) {
    await grants.adapter.destroy(grantId);
    ctx.oidc.provider.emit("grant.revoked", ctx, grantId);
  }
}
