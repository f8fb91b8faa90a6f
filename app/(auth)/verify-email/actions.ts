"use server";
import { z } from "zod";
import { guardedAction, verifyEmailWithLink } from "@/lib/auth";

export const confirmEmailAction = guardedAction("public", z.object({ token: z.string().min(1).max(200) }), async ({ token }, _user, ctx) => {
  const result = await verifyEmailWithLink(token, ctx);
  if (result.ok) return { ok: true, message: `${result.email} is confirmed. Apps you sign in to will see it as verified.` };
  return result.reason === "too_many"
    ? { ok: false, message: "Too many confirmations from your network. Try again in an hour." }
    : { ok: false, message: "This link is not valid any more (it works once, for 24 hours, for the address it was sent to). Send a new one from your account page." };
});
