"use server";
import { redirect } from "next/navigation";
import { z } from "zod";
import { emailSchema, guardedAction, nameSchema, newPasswordSchema, redeemSetupToken, signIn } from "@/lib/auth";

const setupForm = z.object({
  token: z.string().min(1).max(200),
  name: nameSchema,
  email: emailSchema,
  password: newPasswordSchema,
});

export const createFirstAdminAction = guardedAction("public", setupForm, async ({ token, ...admin }, _user, ctx) => {
  const result = await redeemSetupToken(token, admin, ctx);
  if (!result.ok && result.reason === "unacceptable_password") return { ok: false, fieldErrors: { password: [result.message] } };
  if (!result.ok && result.reason === "email_taken") return { ok: false, fieldErrors: { email: ["An account with this email already exists. Use another address."] } };
  if (!result.ok) {
    return {
      ok: false,
      message: result.reason === "admin_exists" ? "Gatehouse already has an admin. Sign in instead." : "This setup link is invalid, used or expired. Restart Gatehouse for a new one.",
    };
  }
  await signIn("credentials", { email: admin.email, password: admin.password, redirect: false });
  redirect("/admin");
});
