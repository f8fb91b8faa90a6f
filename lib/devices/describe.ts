import Bowser from "bowser";
import type { ClientHints } from "../http/request-context";

export type DeviceDescription = { label: string; browser: string | null; os: string | null; platformType: string | null };

/** "Chrome on macOS", from the user agent, with the client hints' platform preferred when sent. */
export function describeDevice(userAgent: string | null, hints?: ClientHints): DeviceDescription {
  const parsed = userAgent ? Bowser.parse(userAgent) : null;
  const browser = parsed?.browser.name ?? null;
  const os = hints?.platform || parsed?.os.name || null;
  const platformType = hints?.mobile === "?1" ? "mobile" : (parsed?.platform.type ?? null);
  const label = browser && os ? `${browser} on ${os}` : (browser ?? os ?? "Unknown device");
  return { label, browser, os, platformType };
}
