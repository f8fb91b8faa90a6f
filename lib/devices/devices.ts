import "server-only";
import { randomBytes } from "node:crypto";
import { blindIndex } from "../crypto";
import { db, Prisma } from "../db/client";
import { audit, type AuditContext } from "../audit";
import type { RequestContext } from "../http/request-context";
import { describeDevice } from "./describe";
import { liveSessionWhere } from "../auth/live-session";

// A device is one browser of one user, recognised by an opaque 256-bit token in a cookie. Only an
// HMAC of the token (under the index key) is stored, so the table cannot mint cookies, and trust
// is a column here: revoking it takes effect at once, whatever cookie the browser still holds.

export const TRUSTED_DEVICE_DAYS = 30;
const TOKEN_CONTEXT = "device.token";

const hashToken = (token: string) => blindIndex(token, TOKEN_CONTEXT);

export type RecognizedDevice = { id: string; trusted: boolean; newToken: string | null };

/** Finds this browser's device for the user (by cookie token) or records a new one. */
export async function recognizeDevice(userId: string, token: string | null, client: RequestContext, now = new Date()): Promise<RecognizedDevice> {
  const description = describeDevice(client.userAgent, client.clientHints);
  const seen = {
    ...description,
    lastIp: client.ip,
    location: client.location ?? null,
    lastSeenAt: now,
    clientHints: client.clientHints ? (client.clientHints as Prisma.InputJsonObject) : Prisma.DbNull,
  };
  const known = token && token.length <= 100 ? await db().device.findUnique({ where: { tokenHash: hashToken(token) } }) : null;
  if (known && known.userId === userId) {
    await db().device.update({ where: { id: known.id }, data: seen });
    return { id: known.id, trusted: !!known.trustedUntil && known.trustedUntil > now, newToken: null };
  }
  const newToken = randomBytes(32).toString("base64url");
  const created = await db().device.create({ data: { userId, tokenHash: hashToken(newToken), firstSeenAt: now, ...seen } });
  return { id: created.id, trusted: false, newToken };
}

export type KnownDevice = { id: string; trusted: boolean };

/**
 * This user's device behind the cookie token, if a sign-in from it has reached the app, and whether
 * it is trusted now, without recording anything (the risk engine asks before the password is
 * checked). A device whose sign-ins all stopped at the MFA step is not known: its cookie was
 * handed out for a right password alone.
 */
export async function knownDevice(userId: string, token: string | null, now = new Date()): Promise<KnownDevice | null> {
  if (!token || token.length > 100) return null;
  const device = await db().device.findUnique({ where: { tokenHash: hashToken(token) }, select: { id: true, userId: true, trustedUntil: true, signedInAt: true } });
  if (device?.userId !== userId || !device.signedInAt) return null;
  return { id: device.id, trusted: !!device.trustedUntil && device.trustedUntil > now };
}

/**
 * A sign-in the user reported ("This wasn't me"): its browser's cookie no longer names a device of
 * theirs, so that browser's next sign-in is a new device again (scored so, and mailed to the owner).
 * The row stays, for the record of where it signed in; its trust is the caller's to revoke (audited).
 */
export async function disownDevice(userId: string, deviceId: string): Promise<void> {
  await db().device.updateMany({ where: { id: deviceId, userId }, data: { tokenHash: hashToken(randomBytes(32).toString("base64url")), signedInAt: null } });
}

/** A sign-in from this device reached the app: from now on it is a known device of its user. */
export async function deviceSignedIn(deviceId: string, at: Date): Promise<void> {
  await db().device.updateMany({ where: { id: deviceId, OR: [{ signedInAt: null }, { signedInAt: { lt: at } }] }, data: { signedInAt: at } });
}

/** Labels of devices by id, for lists of sign-ins. */
export async function deviceLabels(ids: string[]): Promise<Map<string, string>> {
  const rows = ids.length ? await db().device.findMany({ where: { id: { in: ids } }, select: { id: true, label: true } }) : [];
  return new Map(rows.map((d) => [d.id, d.label]));
}

export async function trustDevice(userId: string, deviceId: string, ctx: AuditContext, now = new Date()): Promise<void> {
  const trustedUntil = new Date(now.getTime() + TRUSTED_DEVICE_DAYS * 86_400_000);
  const { count } = await db().device.updateMany({ where: { id: deviceId, userId }, data: { trustedUntil } });
  if (count) {
    await audit(ctx, { type: "mfa", action: "device.trust", outcome: "success", resource: { type: "device", id: deviceId }, metadata: { userId, trustedUntil: trustedUntil.toISOString() } });
  }
}

/** Ends the trust of one of the user's devices (scoped by userId), or of all with deviceId null. */
export async function revokeDeviceTrust(userId: string, deviceId: string | null, ctx: AuditContext): Promise<number> {
  const { count } = await db().device.updateMany({
    where: { userId, trustedUntil: { not: null }, ...(deviceId ? { id: deviceId } : {}) },
    data: { trustedUntil: null },
  });
  if (count) {
    await audit(ctx, { type: "mfa", action: "device.trust.revoke", outcome: "success", resource: deviceId ? { type: "device", id: deviceId } : { type: "user", id: userId }, metadata: { userId, devices: count } });
  }
  return count;
}

export type DeviceView = {
  id: string;
  label: string;
  lastIp: string | null;
  location: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  trustedUntil: Date | null;
  activeSessions: number;
};

/** Devices listed besides those still remembered or signed in, which are always listed (each can be forgotten or signed out). */
const RECENT_DEVICES = 50;

/**
 * A user's devices, most recently seen first: every one still remembered or with a live session,
 * and the RECENT_DEVICES seen last. Not only the newest: a sign-in from each private window adds a
 * device, and a lost laptop still remembered must not drop off the page that forgets it.
 */
export async function listDevices(userId: string, now = new Date()): Promise<DeviceView[]> {
  const include = { _count: { select: { sessions: { where: liveSessionWhere(now) } } } };
  const [current, recent] = await Promise.all([
    db().device.findMany({ where: { userId, OR: [{ trustedUntil: { gt: now } }, { sessions: { some: liveSessionWhere(now) } }] }, include }),
    db().device.findMany({ where: { userId }, orderBy: { lastSeenAt: "desc" }, take: RECENT_DEVICES, include }),
  ]);
  const rows = [...new Map([...current, ...recent].map((d) => [d.id, d])).values()].sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
  return rows.map((d) => ({
    id: d.id, label: d.label, lastIp: d.lastIp, location: d.location, firstSeenAt: d.firstSeenAt, lastSeenAt: d.lastSeenAt,
    trustedUntil: d.trustedUntil && d.trustedUntil > now ? d.trustedUntil : null,
    activeSessions: d._count.sessions,
  }));
}
