import Bowser from "bowser";
import type { ClientHints } from "../http/request-context";

export type DeviceDescription = { label: string; browser: string | null; os: string | null; platformType: string | null };

// Only names Bowser knows are shown. For a browser it does not know it takes the name from the
// user agent's own text, and the client hints' platform is whatever the client sends: a crafted
// header would otherwise write its own words into device lists and into the security notices
// mailed to users ("Please call 555-0100 on Windows").
const KNOWN_BROWSERS = new Set<string>(Object.values(Bowser.BROWSER_MAP));
const KNOWN_SYSTEMS = new Set<string>(Object.values(Bowser.OS_MAP));
const known = (names: ReadonlySet<string>, name: string | null | undefined) => (name && names.has(name) ? name : null);

/** "Chrome on macOS", from the user agent, with the client hints' platform preferred when sent. */
export function describeDevice(userAgent: string | null, hints?: ClientHints): DeviceDescription {
  const parsed = userAgent ? Bowser.parse(userAgent) : null;
  const browser = known(KNOWN_BROWSERS, parsed?.browser.name);
  const os = known(KNOWN_SYSTEMS, hints?.platform) ?? known(KNOWN_SYSTEMS, parsed?.os.name);
  const platformType = hints?.mobile === "?1" ? "mobile" : (parsed?.platform.type ?? null);
  const label = browser && os ? `${browser} on ${os}` : (browser ?? os ?? "Unknown device");
  return { label, browser, os, platformType };
}
