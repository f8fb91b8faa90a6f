import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { clientInputSchema, createClient } from "@/lib/oidc/clients";
import { getProvider } from "@/lib/oidc/provider";
import { verifyAccessToken } from "@/lib/oidc/access-tokens";
import { resetDatabase } from "../support/db";
import { ctx } from "../support/factories";

// The provider's own HTTP answers, in-process: the audit events its requests cause are written
// before the answer leaves, so a client holding a token can already find the event; the tokens
// are signed with the provider's keys.

let server: Server;
let origin: string;

beforeAll(async () => {
  await resetDatabase();
  const handle = (await getProvider()).callback();
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the provider's events", () => {
  it("are in the audit trail when the token response arrives, and a failed grant is too", async () => {
    const resource = "https://api.example.test";
    const machine = await createClient(clientInputSchema.parse({
      name: "Events machine", type: "confidential", grantTypes: ["client_credentials"], redirectUris: "", scopes: "api:read",
      resources: resource, accessTokenTtl: "600", refreshTokenTtl: "86400", requireDpop: false, certificateBound: false,
    }), ctx);
    const grant = (secret: string) => fetch(`${origin}/oidc/token`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${machine.clientId}:${secret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", scope: "api:read", resource }),
    });
    const issued = () => db().auditEvent.count({ where: { action: "oauth.token.issue", outcome: "success", resourceId: machine.clientId } });

    for (let i = 1; i <= 5; i++) {
      const response = await grant(machine.clientSecret!);
      expect(response.status).toBe(200);
      expect(await issued()).toBe(i);
      // The JWT access token is signed by the provider's key (lib/oidc/signing-key.ts) and verifies.
      const { access_token } = (await response.json()) as { access_token: string };
      expect(await verifyAccessToken(access_token, resource, "api:read")).toMatchObject({ clientId: machine.clientId });
    }
    const refused = await grant("not the secret");
    expect(refused.status).toBe(401);
    expect(await db().auditEvent.count({ where: { action: "oauth.token.issue", outcome: "failure", resourceId: machine.clientId } })).toBe(1);
  });
});
