import "server-only";
import { currentUser, type CurrentUser } from "./current";
import { checkAccess, type ConsoleAccess } from "./access";

import { problem } from "../http/problem";

export { problem };

/** For route handlers: the caller, or the 401/403 response to send instead. */
export async function routeCaller(access: ConsoleAccess): Promise<CurrentUser | Response> {
  const user = await currentUser();
  if (!user) return problem(401, "unauthenticated", "Sign in first.");
  if (!(await checkAccess(user, access))) return problem(403, "forbidden", "The access policies do not allow this.");
  return user;
}
