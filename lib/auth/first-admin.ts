import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { db, type Prisma } from "../db/client";
import { AdminExistsError, createUser, EmailTakenError, newUserSchema, type NewUser } from "./users";
import { PasswordRefusedError } from "./password-screening";
import { audit, SYSTEM_CONTEXT, type AuditContext } from "../audit/context";

// How the first admin gets in, without a default password that stays valid:
// either GATEHOUSE_ADMIN_EMAIL + GATEHOUSE_ADMIN_PASSWORD at first start, or a one-time
// setup link (valid for SETUP_TOKEN_TTL, usable once, only while no admin exists).
const SETUP_TOKEN_TTL_MS = 60 * 60_000;

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

export async function hasAdmin(client: Pick<Prisma.TransactionClient, "user"> = db()): Promise<boolean> {
  return (await client.user.count({ where: { roles: { has: "admin" } } })) > 0;
}

export async function issueSetupToken(now = new Date()): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await db().setupToken.create({
    data: { tokenHash: hashToken(token), expiresAt: new Date(now.getTime() + SETUP_TOKEN_TTL_MS) },
  });
  return token;
}

async function findUsableToken(token: string, now: Date) {
  const row = await db().setupToken.findUnique({ where: { tokenHash: hashToken(token) } });
  return row && !row.usedAt && row.expiresAt > now ? row : null;
}

/** Whether the setup page should offer its form for this token. */
export async function isSetupTokenUsable(token: string, now = new Date()): Promise<boolean> {
  return !(await hasAdmin()) && (await findUsableToken(token, now)) !== null;
}

export type RedeemResult =
  | { ok: true; userId: string }
  | { ok: false; reason: "invalid_token" | "admin_exists" | "email_taken" }
  | { ok: false; reason: "unacceptable_password"; message: string };

/**
 * Creates the first admin with the token. The token is spent first, and with it every other
 * setup link (several starts without an admin each print one): two links redeemed at once cannot
 * make two admins. If no admin results, the token is usable again.
 */
export async function redeemSetupToken(token: string, admin: Omit<NewUser, "roles">, ctx: AuditContext, now = new Date()): Promise<RedeemResult> {
  const asLink: AuditContext = { ...ctx, actor: { type: "system", id: null, label: "setup-link" } };
  const result = await redeem(token, admin, asLink, now);
  // A refused link is a security event (a guessed or stale link, or a second try after an admin
  // exists); the token itself is never recorded. Success is recorded as the account's creation.
  if (!result.ok) await audit(asLink, { type: "security", action: "setup.redeem", outcome: result.reason === "admin_exists" || result.reason === "invalid_token" ? "blocked" : "failure", metadata: { reason: result.reason } });
  return result;
}

async function redeem(token: string, admin: Omit<NewUser, "roles">, asLink: AuditContext, now: Date): Promise<RedeemResult> {
  const spent = await db().$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('gatehouse.first_admin'))`;
    if (await hasAdmin(tx)) return "admin_exists" as const;
    const { count } = await tx.setupToken.updateMany({ where: { tokenHash: hashToken(token), usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    if (count !== 1) return "invalid_token" as const;
    await tx.setupToken.updateMany({ where: { usedAt: null }, data: { usedAt: now } });
    return "spent" as const;
  });
  if (spent !== "spent") return { ok: false, reason: spent };
  const reopen = () => db().setupToken.updateMany({ where: { tokenHash: hashToken(token) }, data: { usedAt: null } });
  try {
    const user = await createUser({ ...admin, roles: ["user", "admin"] }, asLink, null, { firstAdmin: true });
    return { ok: true, userId: user.id };
  } catch (error) {
    // Another link or instance made the first admin while this one's password was screened and hashed.
    if (error instanceof AdminExistsError) return { ok: false, reason: "admin_exists" };
    // Nothing was created: the link stays usable for another address or password (or a retry).
    await reopen();
    if (!(error instanceof EmailTakenError || error instanceof PasswordRefusedError)) throw error;
    return error instanceof PasswordRefusedError ? { ok: false, reason: "unacceptable_password", message: error.message } : { ok: false, reason: "email_taken" };
  }
}

/**
 * At start: make sure someone can become admin. Returns the setup link's token when one was
 * issued (the server prints it), or null when an admin exists or was created from the environment.
 */
export async function ensureFirstAdminPath(env: { email?: string; password?: string; name?: string }): Promise<string | null> {
  if (await hasAdmin()) return null;
  if (env.email && env.password) {
    // Validated like any other account: a weak password in the environment stops the start, saying which variable.
    const parsed = newUserSchema.safeParse({ email: env.email, name: env.name ?? "Administrator", password: env.password, roles: ["admin"] });
    if (!parsed.success) throw new Error(`GATEHOUSE_ADMIN_EMAIL / GATEHOUSE_ADMIN_PASSWORD refused: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    try {
      await createUser(parsed.data, { ...SYSTEM_CONTEXT, actor: { type: "system", id: null, label: "environment" } }, null, { firstAdmin: true });
    } catch (error) {
      if (error instanceof AdminExistsError) return null;
      // Another instance starting with the same environment created it a moment ago.
      if (error instanceof EmailTakenError && (await hasAdmin())) return null;
      if (error instanceof PasswordRefusedError) throw new Error(`GATEHOUSE_ADMIN_PASSWORD refused: ${error.message} (see "Password rules" in the README)`);
      throw error;
    }
    return null;
  }
  return issueSetupToken();
}
