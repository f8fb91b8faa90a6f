"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { guardedAction } from "@/lib/auth";
import { revokeConnectedApp } from "@/lib/oidc";

export const revokeAppAction = guardedAction("signed-in", z.object({ clientId: z.string().max(100) }), async ({ clientId }, user, ctx) => {
  const revoked = await revokeConnectedApp(user.id, clientId, ctx);
  revalidatePath("/account/apps");
  return revoked ? { ok: true, message: "Access removed: the app can no longer refresh its tokens or get new ones, and a self-contained (JWT) access token it still holds stops working when it expires." } : { ok: false, message: "That app is not connected." };
});
