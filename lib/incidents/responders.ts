import "server-only";
import { db } from "../db/client";

// Who incidents can be assigned and escalated to: active analysts and admins.

const RESPONDER = { disabledAt: null, roles: { hasSome: ["admin" as const, "analyst" as const] } };

export function listResponders() {
  return db().user.findMany({ where: RESPONDER, select: { id: true, email: true }, orderBy: { email: "asc" } });
}

export async function findResponder(email: string): Promise<{ userId: string; email: string } | null> {
  const user = await db().user.findFirst({ where: { email: email.trim().toLowerCase(), ...RESPONDER }, select: { id: true, email: true } });
  return user && { userId: user.id, email: user.email };
}
