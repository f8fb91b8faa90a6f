// What a scope lets an app do, in the words users see on the consent page and on their list of
// connected apps. A scope of an API (one an admin defined) is named as it is.
const SCOPE_TEXT: Record<string, string> = {
  openid: "Know who you are (your Gatehouse account id)",
  profile: "Your name",
  email: "Your email address",
  roles: "Your roles in Gatehouse (admin, analyst, auditor)",
  groups: "The groups you are in (your teams in Gatehouse)",
  offline_access: "Stay connected when you are not using it (refresh tokens)",
};

export const scopeText = (scope: string) => SCOPE_TEXT[scope] ?? `Use the API permission “${scope}”`;

/** The same, for a scope of a named API (its resource indicator, shown by host): which API it is for. */
export const apiScopeText = (scope: string, resource: string | null) => (resource ? `${scopeText(scope)} of ${URL.parse(resource)?.host || resource}` : scopeText(scope));
