import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { importJWK, SignJWT } from "jose";
import pg from "pg";
import { db } from "@/lib/db/client";
import { startChangeListener, stopChangeListener } from "@/lib/db/changes";
import { verifyAccessToken } from "@/lib/oidc/access-tokens";
import { clientInputSchema, clientMetadata, createClient } from "@/lib/oidc/clients";
import { ensureSigningKeys, providerJwks, rotateSigningKeys } from "@/lib/oidc/keys";
import { issuer } from "@/lib/oidc/provider";
import { resetDatabase } from "../support/db";
import { ctx } from "../support/factories";

// "Another instance" is another connection that changes rows and announces it as lib/db/changes
// does; this process's caches must drop the entry at once, not when it runs out (5 s).

let other: pg.Client;
beforeAll(async () => {
  other = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await other.connect();
  startChangeListener();
});
afterAll(async () => {
  await stopChangeListener();
  await other.end();
});
beforeEach(resetDatabase);

const announce = (payload: unknown) => other.query("SELECT pg_notify('gatehouse_changes', $1)", [typeof payload === "string" ? payload : JSON.stringify(payload)]);

async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

async function newClient() {
  const input = clientInputSchema.parse({
    name: "Notified app", type: "confidential", grantTypes: ["client_credentials"], redirectUris: "", scopes: "api:read", resources: "https://api.example.test",
    accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
  });
  return (await createClient(input, ctx)).clientId;
}

describe("changes announced by another instance", () => {
  it("a client disabled there is refused here at once, though this instance had it cached", async () => {
    const clientId = await newClient();
    expect(await clientMetadata(clientId)).toBeDefined(); // now cached for 5 s
    await other.query("UPDATE oauth_clients SET disabled_at = now() WHERE id = $1", [clientId]);
    expect(await clientMetadata(clientId)).toBeDefined(); // still the cached view: nothing was announced
    await announce({ topic: "oauth_client", id: clientId });
    expect(await within(1_000, async () => (await clientMetadata(clientId)) === undefined)).toBeLessThan(1_000);
  });

  it("a key rotation drops the cached key set at once: tokens signed with the new key verify immediately", async () => {
    await ensureSigningKeys();
    const api = "https://gatehouse.example.test/api/v1/authorize";
    const svc = await newClient();
    const sign = async (key: Awaited<ReturnType<typeof providerJwks>>["keys"][number]) =>
      new SignJWT({ scope: "pdp", client_id: svc }).setProtectedHeader({ alg: key.alg!, kid: key.kid!, typ: "at+jwt" })
        .setIssuer(issuer()).setAudience(api).setSubject(svc).setIssuedAt().setExpirationTime("1h").sign(await importJWK(key, key.alg));
    const first = (await providerJwks()).keys.find((k) => k.alg === "ES256")!;
    expect(await verifyAccessToken(await sign(first), api, "pdp")).toMatchObject({ clientId: svc }); // key set cached here
    // Without the announcement, a token naming an unknown key rereads the set only 500 ms after the last read.
    const newKids = await rotateSigningKeys(ctx);
    const rotated = (await providerJwks()).keys.find((k) => newKids.includes(k.kid!) && k.alg === "ES256")!;
    expect(await verifyAccessToken(await sign(rotated), api, "pdp")).toMatchObject({ clientId: svc });
  });

  it("ignores announcements it cannot read, and keeps listening", async () => {
    const clientId = await newClient();
    expect(await clientMetadata(clientId)).toBeDefined();
    await other.query("UPDATE oauth_clients SET disabled_at = now() WHERE id = $1", [clientId]);
    for (const junk of ["not json", '{"topic":"nonsense","id":"x"}', '{"topic":"oauth_client","id":7}', "null"]) await announce(junk);
    await announce({ topic: "oauth_client", id: clientId });
    await within(1_000, async () => (await clientMetadata(clientId)) === undefined);
  });

  it("after its connection is cut, reconnects and drops everything cached meanwhile", async () => {
    const clientId = await newClient();
    expect(await clientMetadata(clientId)).toBeDefined();
    await other.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN gatehouse_changes' AND pid <> pg_backend_pid()");
    // Changed while no one listened here: the announcement is lost, the reconnection makes up for it.
    await other.query("UPDATE oauth_clients SET disabled_at = now() WHERE id = $1", [clientId]);
    await announce({ topic: "oauth_client", id: clientId });
    await within(3_000, async () => (await clientMetadata(clientId)) === undefined);
    // And it listens again.
    await db().oAuthClient.update({ where: { id: clientId }, data: { disabledAt: null } });
    const again = await newClient();
    expect(await clientMetadata(again)).toBeDefined();
    await other.query("UPDATE oauth_clients SET disabled_at = now() WHERE id = $1", [again]);
    await announce({ topic: "oauth_client", id: again });
    await within(1_000, async () => (await clientMetadata(again)) === undefined);
  });
});
