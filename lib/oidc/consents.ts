import "server-only";
import { db, Prisma } from "../db/client";
import { audit, distinctMetadataValues, type AuditContext } from "../audit";
import { endProviderSessionsOf } from "./backchannel";

// Consents: a user's decision to let a client have some scopes, remembered for next time or for
// this sign-in only. Every one lists the app on /account/apps; revoking it deletes every grant and
// token of that user and client, so nothing the user allowed stays out of their reach.

/** The grant of a consent the user asked to remember: the consent page is skipped with it. */
export async function rememberedGrantId(userId: string, clientId: string): Promise<string | undefined> {
  const consent = await db().oAuthConsent.findUnique({ where: { userId_clientId: { userId, clientId } } });
  return consent?.remembered ? consent.grantId : undefined;
}

/** Of these grants, those a consent the user asked to remember points at. */
export async function rememberedGrantIds(grantIds: string[]): Promise<Set<string>> {
  const rows = grantIds.length ? await db().oAuthConsent.findMany({ where: { grantId: { in: grantIds }, remembered: true }, select: { grantId: true } }) : [];
  return new Set(rows.map((row) => row.grantId));
}

export async function recordConsent(userId: string, clientId: string, grantId: string, scopes: string[], remembered: boolean): Promise<void> {
  await db().oAuthConsent.upsert({
    where: { userId_clientId: { userId, clientId } },
    create: { userId, clientId, grantId, scopes, remembered },
    update: { grantId, scopes, remembered },
  });
}

export type ConnectedApp = { clientId: string; name: string; scopes: string[]; since: Date; lastUpdated: Date; remembered: boolean };

export async function listConnectedApps(userId: string): Promise<ConnectedApp[]> {
  const consents = await db().oAuthConsent.findMany({ where: { userId }, orderBy: { updatedAt: "desc" } });
  const clients = await db().oAuthClient.findMany({ where: { id: { in: consents.map((c) => c.clientId) } }, select: { id: true, name: true } });
  const names = new Map(clients.map((c) => [c.id, c.name]));
  return consents.map((c) => ({ clientId: c.clientId, name: names.get(c.clientId) ?? c.clientId, scopes: c.scopes, since: c.createdAt, lastUpdated: c.updatedAt, remembered: c.remembered }));
}

/** What a grant lets the client have: its OpenID scopes and each resource's (API) scopes. */
export function grantedScopes(grant: { openid?: { scope?: string }; resources?: Record<string, string> }): string[] {
  const words = [grant.openid?.scope ?? "", ...Object.values(grant.resources ?? {})].flatMap((scope) => scope.split(" ")).filter(Boolean);
  return [...new Set(words)];
}

/**
 * The provider revoked a grant (a refresh token revoked or reused, a code reused). The consent
 * that pointed at it moves to another live grant of the same user and client (a "this time only"
 * consent from another device, say), no longer remembered, so the app stays listed, and revocable,
 * while anything it holds still works; with no other grant the app is no longer connected.
 */
export async function forgetConsentsForGrant(grantId: string): Promise<void> {
  const consent = await db().oAuthConsent.findFirst({ where: { grantId } });
  if (!consent) return;
  const [other] = await db().$queryRaw<{ id: string; payload: Parameters<typeof grantedScopes>[0] }[]>`
    SELECT id, payload FROM oidc_models
    WHERE kind = 'Grant' AND account_id = ${consent.userId} AND client_id = ${consent.clientId} AND id <> ${grantId}
      AND (expires_at IS NULL OR expires_at > now())
    ORDER BY (payload->>'iat')::bigint DESC NULLS LAST LIMIT 1`;
  if (!other) {
    await db().oAuthConsent.deleteMany({ where: { grantId } });
    return;
  }
  await db().oAuthConsent.updateMany({ where: { grantId }, data: { grantId: other.id, scopes: grantedScopes(other.payload), remembered: false } });
}

// What a user's grant to a client leaves in the provider's storage.
const GRANT_KINDS = ["Grant", "AccessToken", "RefreshToken", "AuthorizationCode"] as const;

/**
 * The one way grants and tokens are revoked here: deletes the provider's records of these kinds
 * that belong to this user and/or client (every grant and token carries both; the adapter keeps
 * them as indexed columns). By owner rather than by a consent's grant id, so a grant allowed "this time only" in an earlier sign-in,
 * which the consent no longer points at, goes too.
 */
async function deleteProviderRecords(kinds: readonly string[], of: { accountId?: string; clientId?: string }, tx: Prisma.TransactionClient = db()): Promise<number> {
  const byAccount = of.accountId ? Prisma.sql`AND account_id = ${of.accountId}` : Prisma.empty;
  const byClient = of.clientId ? Prisma.sql`AND client_id = ${of.clientId}` : Prisma.empty;
  return tx.$executeRaw`DELETE FROM oidc_models WHERE kind IN (${Prisma.join(kinds)}) ${byAccount} ${byClient}`;
}

/** A user disconnects an app (scoped by userId: another user's client id matches nothing). */
export async function revokeConnectedApp(userId: string, clientId: string, ctx: AuditContext): Promise<boolean> {
  const consent = await db().oAuthConsent.findUnique({ where: { userId_clientId: { userId, clientId } } });
  if (!consent) return false;
  // Both or neither (a failed second delete would leave working tokens the apps page no longer
  // lists); the consent's row first, so a consent completed in another tab meanwhile waits for it
  // and is then saved afresh: listed, and revocable. A second request of a double click finds
  // nothing to delete: the first one's revocation stands.
  const revoked = await db().$transaction(async (tx) => {
    const { count } = await tx.oAuthConsent.deleteMany({ where: { userId, clientId } });
    if (count > 0) await deleteProviderRecords(GRANT_KINDS, { accountId: userId, clientId }, tx);
    return count > 0;
  });
  if (!revoked) return false;
  await audit(ctx, { type: "consent", action: "oauth.consent.revoke", outcome: "success", resource: { type: "oauth_client", id: clientId }, metadata: { userId, grantId: consent.grantId } });
  return true;
}

/** Admin: revokes every user's grant to a client, and its machine (client credentials) tokens. */
export async function revokeClientGrants(clientId: string, ctx: AuditContext): Promise<number> {
  const { count: grants } = await db().oAuthConsent.deleteMany({ where: { clientId } });
  await deleteProviderRecords([...GRANT_KINDS, "ClientCredentials"], { clientId });
  await audit(ctx, { type: "admin", action: "oauth.client.grants.revoke", outcome: "success", resource: { type: "oauth_client", id: clientId }, metadata: { grants } });
  return grants;
}

/**
 * Every grant, token and provider session of one user, at every client (disabled, deleted, reset,
 * an incident response): the apps with a back-channel logout URI are told. Returns the records removed.
 */
export async function revokeUserGrants(userId: string, ctx: AuditContext): Promise<number> {
  const { count: grants } = await db().oAuthConsent.deleteMany({ where: { userId } });
  const sessions = await endProviderSessionsOf(userId);
  const records = sessions + (await deleteProviderRecords([...GRANT_KINDS, "BackchannelAuthenticationRequest", "DeviceCode"], { accountId: userId }));
  await audit(ctx, { type: "token", action: "oauth.user_grants.revoke", outcome: "success", resource: { type: "user", id: userId }, metadata: { grants, records } });
  return records;
}

export type ClientGrant = { userId: string; scopes: string[]; since: Date; lastUpdated: Date };

/** The users who granted this client access, newest change first (the console names them). */
export async function listClientGrants(clientId: string, take = 500): Promise<ClientGrant[]> {
  const consents = await db().oAuthConsent.findMany({ where: { clientId }, orderBy: { updatedAt: "desc" }, take });
  return consents.map((c) => ({ userId: c.userId, scopes: c.scopes, since: c.createdAt, lastUpdated: c.updatedAt }));
}

/** The scopes each client used since `since` (client id → scopes): consents given or renewed, and successful authorizations and token issues. */
export async function clientScopesUsedSince(since: Date): Promise<Map<string, Set<string>>> {
  const [consented, requested] = await Promise.all([
    db().$queryRaw<{ clientId: string; scope: string }[]>`
      SELECT DISTINCT client_id AS "clientId", unnest(scopes) AS scope FROM oauth_consents WHERE updated_at >= ${since}`,
    distinctMetadataValues({ actions: ["oauth.authorize", "oauth.token.issue", "oauth.token.refresh"], outcome: "success", since, key: "scope", separator: " " }),
  ]);
  const used = new Map<string, Set<string>>();
  const mark = (clientId: string, scope: string) => (used.get(clientId) ?? used.set(clientId, new Set()).get(clientId)!).add(scope);
  for (const c of consented) mark(c.clientId, c.scope);
  for (const e of requested) mark(e.resourceId, e.value);
  return used;
}
