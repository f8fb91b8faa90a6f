import "server-only";
import { publicUrl, readConfig } from "../config";
import { writeToTerminalOnly } from "../log";
import { ensureFirstAdminPath } from "./first-admin";

/** Creates the first admin from the environment, or prints a one-time setup link (to the terminal, never the log file). */
export async function announceFirstAdminPath(): Promise<void> {
  const config = readConfig();
  const token = await ensureFirstAdminPath({ email: config.GATEHOUSE_ADMIN_EMAIL, password: config.GATEHOUSE_ADMIN_PASSWORD });
  if (!token) return;
  const url = publicUrl("/setup");
  url.searchParams.set("token", token);
  writeToTerminalOnly(`\nNo admin yet. Open this one-time link within an hour to create the first admin:\n\n  ${url}\n\n`);
}
