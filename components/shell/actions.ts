"use server";
import { signOut } from "@/lib/auth";
import { safeReturnPath } from "@/lib/util/format";

/**
 * Ends the session row (next-auth's signOut event) and clears the cookie. A form may name a
 * page of this site (redirectTo) to come back to after signing in again.
 */
export async function signOutAction(formData?: unknown): Promise<void> {
  // Called from a form; anything else (a forged call) signs out without a way back.
  const back = formData instanceof FormData ? formData.get("redirectTo") : null;
  const redirectTo = typeof back === "string" && back ? `/sign-in?callbackUrl=${encodeURIComponent(safeReturnPath(back))}` : "/sign-in";
  await signOut({ redirectTo });
}
