import "server-only";
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import { db, isUniqueViolation } from "../db/client";
import { decrypt, encrypt } from "../crypto";
import type { SealedField } from "../crypto/reseal";
import { audit, type AuditContext } from "../audit/context";
import { hostRefusal } from "../http/destinations";
import { isLoopbackHostname } from "../util/loopback";
import { sendNotification } from "./notify";
import { listActiveAdmins } from "../auth/users";

// Where notify steps send: a webhook (signed with its own HMAC secret, encrypted at rest) or an
// email address (through GATEHOUSE_SMTP_URL).

const SECRET_CONTEXT = "notification-channel.secret";
/** Where webhook signing secrets are sealed (npm run keys:reseal). */
export const CHANNEL_SECRETS: SealedField = { table: "notification_channels", column: "secret_cipher", id: "id", context: SECRET_CONTEXT };

/**
 * What is wrong with a webhook URL, judged without DNS (a name's addresses are checked at each send
 * by lib/http/destinations.ts): https only, except on loopback (which must be allowed like any internal
 * receiver); no credentials; no literal address or name that is not public.
 */
function webhookTargetProblem(target: string): string | null {
  if (!URL.canParse(target)) return null; // the URL format check says so
  const url = new URL(target);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHostname(url.hostname))) return "Use an https URL (or http on loopback).";
  if (url.username || url.password) return "Put no credentials in the URL: the request is signed.";
  const refusal = hostRefusal(url.hostname);
  return refusal ? `Webhooks go to public addresses only: ${refusal}. An internal receiver must be listed in GATEHOUSE_WEBHOOK_ALLOWED_HOSTS.` : null;
}

/**
 * The built-in channel: every active account with the admin role, by email (GATEHOUSE_SMTP_URL).
 * The built-in playbooks tell it after their containment steps, so someone hears of an incident
 * on a fresh installation.
 */
export const ADMINS_CHANNEL = "admins";

const channelName = z.string().trim().min(1, "Name the channel.").max(60).regex(/^[\w .-]+$/, "Letters, digits, spaces, dots and dashes.")
  .refine((name) => name.toLowerCase() !== ADMINS_CHANNEL, `"${ADMINS_CHANNEL}" is built in (every active admin, by email): choose another name.`);

export const newChannelSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("webhook"),
    name: channelName,
    target: z.url().max(500).superRefine((u, ctx) => {
      const problem = webhookTargetProblem(u);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  }),
  z.object({
    kind: z.literal("email"),
    name: channelName,
    target: z.email("Enter an email address.").max(254),
  }),
]);

export type ChannelView = { id: string; name: string; kind: string; target: string; createdAt: Date };

/**
 * A channel's destination as shown and audited: a webhook's address without its path and query,
 * which are often its credential (chat and paging services put the token there); everyone who
 * may view incidents sees the list, and every audit reader sees the trail.
 */
export function shownTarget(kind: string, target: string): string {
  if (kind !== "webhook" || !URL.canParse(target)) return target;
  const url = new URL(target);
  return url.pathname === "/" && !url.search ? url.origin : `${url.origin}/…`;
}

/**
 * The channels, each webhook with why its destination is refused now (saved before the check
 * existed, or no longer in GATEHOUSE_WEBHOOK_ALLOWED_HOSTS): its sends fail until that changes.
 */
export async function listChannels(): Promise<(ChannelView & { refusal: string | null })[]> {
  const channels = await db().notificationChannel.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true, kind: true, target: true, createdAt: true } });
  return channels.map((c) => ({ ...c, target: shownTarget(c.kind, c.target), refusal: c.kind === "webhook" && URL.canParse(c.target) ? hostRefusal(new URL(c.target).hostname) : null }));
}

export class ChannelNameTakenError extends Error {}

/** Creates a channel; a webhook's signing secret is returned once (the receiver needs it) and stored encrypted. */
export async function createChannel(input: z.infer<typeof newChannelSchema>, ctx: AuditContext): Promise<{ channel: ChannelView; secret: string | null }> {
  if (await db().notificationChannel.findUnique({ where: { name: input.name } })) throw new ChannelNameTakenError(input.name);
  const secret = input.kind === "webhook" ? `whsec_${randomBytes(32).toString("base64url")}` : null;
  const channel = await db().notificationChannel.create({
    data: { name: input.name, kind: input.kind, target: input.target, secretCipher: secret ? encrypt(secret, SECRET_CONTEXT) : null },
    select: { id: true, name: true, kind: true, target: true, createdAt: true },
  }).catch((error: unknown) => {
    // Another admin saved the same name a moment ago.
    if (isUniqueViolation(error)) throw new ChannelNameTakenError(input.name);
    throw error;
  });
  await audit(ctx, { type: "incident", action: "incident.channel.create", outcome: "success", resource: { type: "notification_channel", id: channel.id }, metadata: { name: channel.name, kind: channel.kind, target: shownTarget(channel.kind, channel.target) } });
  return { channel, secret };
}

export async function deleteChannel(id: string, ctx: AuditContext): Promise<boolean> {
  const channel = await db().notificationChannel.findUnique({ where: { id } });
  // Deleted by another admin meanwhile: nothing left to delete.
  if (!channel || (await db().notificationChannel.deleteMany({ where: { id } })).count === 0) return false;
  await audit(ctx, { type: "incident", action: "incident.channel.delete", outcome: "success", resource: { type: "notification_channel", id }, metadata: { name: channel.name, kind: channel.kind } });
  return true;
}

/** Where a notification is sent. */
export type ChannelTarget = { name: string } & ({ kind: "webhook"; url: string; secret: string } | { kind: "email"; to: string; builtIn?: true });
/** A channel found by name; `id` is its row's, null for the built-in admins channel. */
export type ResolvedChannel = ChannelTarget & { id: string | null };

export async function resolveChannel(name: string): Promise<ResolvedChannel | null> {
  const channel = await db().notificationChannel.findUnique({ where: { name } });
  // A channel of that name saved before the name was reserved keeps its place: its playbooks meant it.
  if (!channel && name === ADMINS_CHANNEL) {
    const admins = await listActiveAdmins();
    return admins.length ? { id: null, name, kind: "email", to: admins.map((a) => a.email).join(", "), builtIn: true } : null;
  }
  if (!channel) return null;
  return channel.kind === "webhook"
    ? { id: channel.id, name, kind: "webhook", url: channel.target, secret: decrypt(channel.secretCipher ?? "", SECRET_CONTEXT) }
    : { id: channel.id, name, kind: "email", to: channel.target };
}

/**
 * Sends a test notification through a channel, so an admin knows a playbook's notify step will
 * reach someone before an incident needs it. Audited, with what the receiver answered.
 */
export async function testChannel(name: string, ctx: AuditContext): Promise<{ ok: boolean; detail: string } | null> {
  // By name, as playbooks reach it: the built-in admins channel has no row.
  const channel = await resolveChannel(name);
  if (!channel) return null;
  const deliveryId = `test:${randomUUID()}`;
  const subject = `[Gatehouse] Test notification for channel ${channel.name}`;
  let result: { ok: boolean; detail: string };
  try {
    result = { ok: true, detail: await sendNotification(channel, { deliveryId, subject, text: `${subject}\n\nThis channel works: playbooks' notify steps will reach it.\n`, payload: { test: true } }) };
  } catch (error) {
    result = { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
  await audit(ctx, { type: "incident", action: "incident.channel.test", outcome: result.ok ? "success" : "failure", resource: { type: "notification_channel", id: channel.id ?? name }, metadata: { name: channel.name, detail: result.detail.slice(0, 300) } });
  return result;
}

/** Self-attestation that webhook secrets are sealed: of all stored, how many look plaintext (our whsec_ form, which a sealed one never is). */
export async function checkChannelSecretsSealed(): Promise<{ checked: number; plaintext: number }> {
  const rows = await db().notificationChannel.findMany({ where: { secretCipher: { not: null } }, select: { secretCipher: true } });
  return { checked: rows.length, plaintext: rows.filter((c) => c.secretCipher!.startsWith("whsec_")).length };
}
