"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { guardedAction } from "@/lib/auth";
import { revokeConnectedApp } from "@/lib/oidc";

export const revokeAppAction = guardedAction("signed-in", z.object({ clientId: z.string().max(100) }), async ({ clientId }, user, ctx) => {
  const revoked = await revokeConnectedApp(user.id, clientId, ctx);
  revalidatePath("/account/apps");
  if (!revoked) return { ok: false, message: "That app is not connected." };
  // Told at the top of the page: the app's row, and its button, are gone.
  redirect("/account/apps?removed=1");
});
