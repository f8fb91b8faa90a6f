"use server";
import { signOut } from "@/lib/auth";
import { safeReturnPath } from "@/lib/util/format";

/**
 * Ends the session row (next-auth's signOut event) and clears the cookie. A form may name a
 * page of this site (redirectTo) to come back to after signing in again.
 */
export async function signOutAction(formData?: FormData): Promise<void> {
  const back = formData?.get("redirectTo");
  const redirectTo = typeof back === "string" && back ? `/sign-in?callbackUrl=${encodeURIComponent(safeReturnPath(back))}` : "/sign-in";
  await signOut({ redirectTo });
}
