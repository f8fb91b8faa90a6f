"use server";
import { signOut } from "@/lib/auth";

/** Ends the session row (next-auth's signOut event) and clears the cookie. */
export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/sign-in" });
}
