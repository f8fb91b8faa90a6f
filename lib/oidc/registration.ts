import "server-only";
import { audit, type AuditContext } from "../audit";
import { getProvider } from "./provider";

const IAT_TTL_SECONDS = 24 * 3600;

/** An admin issues a one-day initial access token for dynamic client registration (RFC 7591). */
export async function issueInitialAccessToken(ctx: AuditContext): Promise<{ token: string; expiresInSeconds: number }> {
  const provider = await getProvider();
  const token = await new provider.InitialAccessToken({ expiresIn: IAT_TTL_SECONDS }).save();
  await audit(ctx, { type: "admin", action: "oauth.registration_token.issue", outcome: "success", resource: { type: "initial_access_token", id: token.slice(0, 8) } });
  return { token, expiresInSeconds: IAT_TTL_SECONDS };
}
