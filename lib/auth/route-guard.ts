import "server-only";
import { headers } from "next/headers";
import { currentUser, type CurrentUser } from "./current";
import { checkAccessOrStepUp, type ConsoleAccess } from "./access";

import { problem } from "../http/problem";

export { problem };

// What a browser says started the request (Fetch Metadata): the console's own pages, or the
// person (a typed address, a bookmark). Clients that send none (curl, scripts) are not browsers
// carrying someone's cookie on another site's behalf.
const OWN_REQUESTS = new Set(["same-origin", "none"]);

/**
 * For route handlers: the caller, or the 401/403 response to send instead. A request another site
 * started is refused first: these routes are GETs that write (an export and its audit event, a
 * report download), and the SameSite=Lax cookie rides along on a cross-site navigation.
 */
export async function routeCaller(access: ConsoleAccess): Promise<CurrentUser | Response> {
  const site = (await headers()).get("sec-fetch-site");
  if (site !== null && !OWN_REQUESTS.has(site)) return problem(403, "forbidden", "Open this from Gatehouse itself: a request another site started is refused.");
  const user = await currentUser();
  if (!user) return problem(401, "unauthenticated", "Sign in first.");
  const verdict = await checkAccessOrStepUp(user, access);
  if (verdict === "deny") return problem(403, "forbidden", "The access policies do not allow this.");
  // A download link on a page confirmed a while ago: the page sends the person to confirm again.
  if (verdict !== "allow") return problem(403, "step_up_required", `The access policies ask you to confirm it is you${verdict === "step-up-passkey" ? " with a passkey" : ""} first: reload the page you came from.`);
  return user;
}
