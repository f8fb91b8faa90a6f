import "server-only";
import type { Adapter, AdapterPayload } from "oidc-provider";
import { db, Prisma } from "../db/client";
import { clientMetadata, saveRegisteredClient } from "./clients";

// oidc-provider's storage on PostgreSQL: every model it keeps (sessions, interactions, codes,
// grants, tokens, PAR requests, replay records…) is a row of oidc_models, so a restart or another
// instance sees the same state. Clients are the exception: they live in oauth_clients, which the
// console manages, and dynamic registration writes there too.

const expiry = (expiresIn?: number) => (expiresIn ? new Date(Date.now() + expiresIn * 1000) : null);

export class PrismaAdapter implements Adapter {
  constructor(private readonly kind: string) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    if (this.kind === "Client") return saveRegisteredClient(id, payload);
    const row = {
      payload: payload as Prisma.InputJsonObject,
      grantId: payload.grantId ?? null,
      userCode: payload.userCode ?? null,
      uid: payload.uid ?? null,
      expiresAt: expiry(expiresIn),
    };
    await db().oidcModel.upsert({ where: { kind_id: { kind: this.kind, id } }, create: { kind: this.kind, id, ...row }, update: row });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.kind === "Client") return clientMetadata(id);
    const row = await db().oidcModel.findUnique({ where: { kind_id: { kind: this.kind, id } } });
    return row ? present(row) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const row = await db().oidcModel.findFirst({ where: { kind: this.kind, userCode } });
    return row ? present(row) : undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const row = await db().oidcModel.findFirst({ where: { kind: this.kind, uid } });
    return row ? present(row) : undefined;
  }

  async consume(id: string): Promise<void> {
    await db().oidcModel.updateMany({ where: { kind: this.kind, id }, data: { consumedAt: new Date() } });
  }

  async destroy(id: string): Promise<void> {
    if (this.kind === "Client") return;
    await db().oidcModel.deleteMany({ where: { kind: this.kind, id } });
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await db().oidcModel.deleteMany({ where: { grantId } });
  }
}

function present(row: { payload: Prisma.JsonValue; expiresAt: Date | null; consumedAt: Date | null }): AdapterPayload | undefined {
  // Expired rows are gone as far as the provider is concerned (a sweeper deletes them later).
  if (row.expiresAt && row.expiresAt <= new Date()) return undefined;
  const payload = row.payload as AdapterPayload;
  return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
}

/** Deletes expired provider records; run periodically. */
export async function sweepExpiredOidcModels(): Promise<number> {
  const { count } = await db().oidcModel.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  return count;
}
