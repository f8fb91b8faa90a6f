import "server-only";
import { cache } from "react";
import { forbidden, redirect } from "next/navigation";
import { requestPath } from "../http/request-context";
import { auth } from "./next-auth";
import { findActiveSession } from "./sessions";
import { hasAnyRole, type RoleName } from "./roles";

export type CurrentUser = {
  sessionId: string;
  id: string;
  email: string;
  name: string;
  roles: RoleName[];
};

/** The signed-in user behind this request, checked against the session row; once per request. */
export const currentUser = cache(async (): Promise<CurrentUser | null> => {
  const session = (await auth()) as { sid?: string } | null;
  if (!session?.sid) return null;
  const row = await findActiveSession(session.sid);
  if (!row) return null;
  const { user } = row;
  return { sessionId: row.id, id: user.id, email: user.email, name: user.name, roles: user.roles };
});

/** For pages and layouts: signed out → sign-in page, coming back to this page after. */
export async function requireUser(): Promise<CurrentUser> {
  const user = await currentUser();
  if (!user) redirect(`/sign-in?callbackUrl=${encodeURIComponent(await requestPath())}`);
  return user;
}

/** For pages and layouts: signed out → sign-in; signed in without one of the roles → 403 page. */
export async function requireRole(roles: readonly RoleName[]): Promise<CurrentUser> {
  const user = await requireUser();
  if (!hasAnyRole(user.roles, roles)) forbidden();
  return user;
}
