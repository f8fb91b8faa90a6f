import "server-only";
import { createHash } from "node:crypto";
import Provider, { errors, type Adapter, type AdapterPayload } from "oidc-provider";
import { pgPool } from "../db/client";
import { clientMetadata, InitialAccessTokenSpentError, saveRegisteredClient } from "./clients";

// oidc-provider's storage on PostgreSQL: every model it keeps (sessions, interactions, codes,
// grants, tokens, PAR requests, replay records…) is a row of oidc_models, so a restart or another
// instance sees the same state. Clients are the exception: they live in oauth_clients, which the
// console manages, and dynamic registration writes there too.
//
// The statements go to node-postgres directly rather than through Prisma's model calls: a refresh
// grant makes six of them, and Prisma's own work per call (over 800 µs of CPU for an upsert of a
// JSON payload, against under 100 µs here) was most of the grant's cost (bench/README.md, R1).

//
// Tokens and codes are bearer credentials, and oidc-provider keys them by their own value: those
// rows are stored under the value's SHA-256 (hex) and without the value in the payload (its jti),
// so a copy of the database or a backup holds no usable refresh token, access token, code or
// registration token. The provider only ever finds them by value, so nothing is lost. (The values
// are 256 bits of randomness: an unsalted hash cannot be reversed by guessing.)
const HASHED_KINDS = new Set([
  "AccessToken", "AuthorizationCode", "RefreshToken", "ClientCredentials", "DeviceCode", "BackchannelAuthenticationRequest",
  "RegistrationAccessToken", "InitialAccessToken", "PreAuthorizedCode",
]);
export const storedTokenId = (value: string) => createHash("sha256").update(value).digest("hex");

const expiry = (expiresIn?: number) => (expiresIn ? new Date(Date.now() + expiresIn * 1000) : null);

type StoredModel = { payload: AdapterPayload; expires_at: Date | null; consumed_at: Date | null };
const SELECT = "SELECT payload, expires_at, consumed_at FROM oidc_models";

async function first(sql: string, values: unknown[]): Promise<AdapterPayload | undefined> {
  const { rows } = await pgPool().query<StoredModel>(sql, values);
  return rows[0] ? present(rows[0]) : undefined;
}

// A NUL as JSON.stringify writes it: \u0000 whose backslash is not itself escaped (a typed
// backslash is written \\).
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/** A payload's accountId or clientId, as its row's column: set on a user's or client's records only. */
const owner = (value: unknown) => (typeof value === "string" ? value : null);

export class PostgresAdapter implements Adapter {
  private readonly hashed: boolean;

  constructor(private readonly kind: string) {
    this.hashed = HASHED_KINDS.has(kind);
  }

  /** The row's id for a value the provider names. */
  private key(id: string): string {
    return this.hashed ? storedTokenId(id) : id;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    if (this.kind === "Client") {
      // An initial access token registers one client: spent as the client is stored, once the
      // metadata has passed every check (of two registrations with one token, one gets invalid_token).
      const token = Provider.ctx?.oidc?.entities.InitialAccessToken;
      try {
        return await saveRegisteredClient(id, payload, token ? storedTokenId(token.jti) : undefined);
      } catch (error) {
        if (error instanceof InitialAccessTokenSpentError) throw new errors.InvalidToken("initial access token already used");
        throw error;
      }
    }
    if (this.hashed) payload = { ...payload, jti: undefined };
    const json = JSON.stringify(payload);
    // jsonb holds no NUL (the insert would fail, a 500): the provider keeps request parameters such
    // as state, nonce and login_hint as they came, so one carrying a NUL is a malformed request.
    if (json.includes("\\u0000") && ESCAPED_NUL.test(json)) throw new errors.InvalidRequest("a parameter contains a NUL character");
    // A replay record (a DPoP proof's or a client assertion's jti) is stored once: the provider
    // looks it up and then saves it, so two requests with one proof at once (on two instances,
    // say) would both find nothing; the second insert is the replay.
    const replay = this.kind === "ReplayDetection";
    const { rowCount } = await pgPool().query(
      `INSERT INTO oidc_models (kind, id, payload, account_id, client_id, grant_id, user_code, uid, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (kind, id) DO ${replay ? "NOTHING" : `UPDATE SET payload = EXCLUDED.payload, account_id = EXCLUDED.account_id, client_id = EXCLUDED.client_id,
         grant_id = EXCLUDED.grant_id, user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`}`,
      [this.kind, this.key(id), json, owner(payload.accountId), owner(payload.clientId), payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiry(expiresIn)],
    );
    if (replay && rowCount === 0) throw new errors.InvalidRequest("replay detected: this proof or assertion was already used");
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.kind === "Client") return clientMetadata(id);
    // PostgreSQL text holds no NUL (the query would fail, a 500): an id with one, as a forged
    // request_uri can name, was never stored.
    if (id.includes("\0")) return undefined;
    const found = await first(`${SELECT} WHERE kind = $1 AND id = $2`, [this.kind, this.key(id)]);
    return found && this.hashed ? { ...found, jti: id } : found;
  }

  // Device flow (not enabled): a hashed row cannot give its value back, so this finds nothing
  // rather than a token without its id (which the provider would save under a new one).
  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    if (this.hashed) return undefined;
    return first(`${SELECT} WHERE kind = $1 AND user_code = $2 LIMIT 1`, [this.kind, userCode]);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return first(`${SELECT} WHERE kind = $1 AND uid = $2 LIMIT 1`, [this.kind, uid]);
  }

  // oidc-provider checks "already consumed" on what it found, then consumes: two requests with one
  // code or refresh token can both pass the check. Only one of them marks the row here; the other
  // is answered as the provider answers reuse it sees (grant_source.js, refresh_token.js,
  // respond.js), so one use wins and a reuse still revokes the grant.
  async consume(id: string): Promise<void> {
    const { rowCount } = await pgPool().query(
      "UPDATE oidc_models SET consumed_at = $3 WHERE kind = $1 AND id = $2 AND consumed_at IS NULL",
      [this.kind, this.key(id), new Date()],
    );
    if (!rowCount) throw await this.alreadyConsumed(id);
  }

  private async alreadyConsumed(id: string): Promise<Error> {
    if (this.kind === "PushedAuthorizationRequest") return new errors.InvalidRequestUri("request_uri is invalid, expired, or was already used");
    // The other kinds consumed are device flow and CIBA ones, which are not enabled.
    const label = this.kind === "RefreshToken" ? "refresh token" : "authorization code";
    const { rows } = await pgPool().query<{ grant_id: string | null }>("SELECT grant_id FROM oidc_models WHERE kind = $1 AND id = $2", [this.kind, this.key(id)]);
    // Gone meanwhile (revoked, or the other request's reuse revoked it): not found, as the provider would have said.
    if (!rows[0]) return new errors.InvalidGrant(`${label} not found`);
    if (rows[0].grant_id) await revokeGrant(rows[0].grant_id);
    // The provider's own details: the audit of refresh-token reuse (events.ts) goes by them.
    return new errors.InvalidGrant(this.kind === "RefreshToken" ? "refresh token already used" : `${label} already consumed`);
  }

  async destroy(id: string): Promise<void> {
    if (this.kind === "Client") return;
    await pgPool().query("DELETE FROM oidc_models WHERE kind = $1 AND id = $2", [this.kind, this.key(id)]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    rememberRevokedAccount(await pgPool().query<{ account_id: string | null }>("DELETE FROM oidc_models WHERE grant_id = $1 RETURNING account_id", [grantId]));
  }
}

/** What oidc-provider's revoke() does on reuse: the grant and every token and code of it go, and grant.revoked is emitted (audit, consents). */
async function revokeGrant(grantId: string): Promise<void> {
  rememberRevokedAccount(await pgPool().query<{ account_id: string | null }>("DELETE FROM oidc_models WHERE grant_id = $1 OR (kind = 'Grant' AND id = $1) RETURNING account_id", [grantId]));
  const ctx = Provider.ctx;
  ctx?.oidc.provider.emit("grant.revoked", ctx, grantId);
}

// The account whose grant a request revoked. A reused authorization code is refused before the
// provider loads any account, and the revocation deletes the code: the audit event of the reuse
// (events.ts) learns whose tokens were at stake from here, so the response can act on that user.
const revokedAccounts = new WeakMap<object, string>();

function rememberRevokedAccount({ rows }: { rows: { account_id: string | null }[] }): void {
  const ctx = Provider.ctx;
  const accountId = rows.find((row) => row.account_id)?.account_id;
  if (ctx && accountId) revokedAccounts.set(ctx, accountId);
}

export const accountOfRevokedGrant = (ctx: object): string | null => revokedAccounts.get(ctx) ?? null;

function present(row: StoredModel): AdapterPayload | undefined {
  // Expired rows are gone as far as the provider is concerned (a sweeper deletes them later).
  if (row.expires_at && row.expires_at <= new Date()) return undefined;
  return row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
}

/** For the compliance check (CC6.7): stored tokens and codes, and how many are kept under their own value. */
export async function checkTokensHashed(): Promise<{ checked: number; plaintext: number }> {
  const { rows } = await pgPool().query<{ checked: number; plaintext: number }>(
    `SELECT count(*)::int AS checked, count(*) FILTER (WHERE id !~ '^[0-9a-f]{64}$' OR payload ? 'jti')::int AS plaintext
     FROM oidc_models WHERE kind = ANY($1)`,
    [[...HASHED_KINDS]],
  );
  return rows[0]!;
}

/** Deletes expired provider records; run periodically. */
export async function sweepExpiredOidcModels(): Promise<number> {
  return (await pgPool().query("DELETE FROM oidc_models WHERE expires_at < $1", [new Date()])).rowCount ?? 0;
}
