import "server-only";
import { cookies } from "next/headers";
import { readConfig } from "../config";

// The device cookie: long-lived, HTTP-only, first-party. It only names the browser; whether the
// device is trusted is decided in the database on every sign-in.
export const DEVICE_COOKIE = "gatehouse_device";
const MAX_AGE_SECONDS = 400 * 86_400;

export async function readDeviceToken(): Promise<string | null> {
  return (await cookies()).get(DEVICE_COOKIE)?.value ?? null;
}

export async function writeDeviceToken(token: string): Promise<void> {
  const secure = (readConfig().GATEHOUSE_URL ?? "").startsWith("https:");
  (await cookies()).set(DEVICE_COOKIE, token, { httpOnly: true, sameSite: "lax", secure, path: "/", maxAge: MAX_AGE_SECONDS });
}
