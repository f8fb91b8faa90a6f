"use server";
import { redirect } from "next/navigation";
import { z } from "zod";
import { emailSchema, guardedAction, nameSchema, newPasswordPairSchema, redeemSetupToken, signIn } from "@/lib/auth";

// The password typed twice: a typo here would leave the only admin with a password nobody knows,
// and the setup link spent.
const setupForm = newPasswordPairSchema.safeExtend({
  token: z.string().min(1).max(200),
  name: nameSchema,
  email: emailSchema,
});

export const createFirstAdminAction = guardedAction("public", setupForm, async ({ token, name, email, newPassword }, _user, ctx) => {
  const admin = { name, email, password: newPassword };
  const result = await redeemSetupToken(token, admin, ctx);
  if (!result.ok && result.reason === "unacceptable_password") return { ok: false, fieldErrors: { newPassword: [result.message] } };
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
