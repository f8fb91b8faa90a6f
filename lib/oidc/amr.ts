import { authStrength, type AuthStrength } from "../policy";

// RFC 8176 method references for how the portal session was authenticated, both ways: into the
// ID token and the tokens of a grant, and back into an authentication strength for the policies
// when a grant is used later (a refresh).
const AMR: Record<string, string> = { password: "pwd", totp: "otp", backup_code: "otp", passkey: "hwk", trusted_device: "rba" };
const METHOD_OF_AMR: Record<string, string> = { pwd: "password", otp: "totp", hwk: "passkey", rba: "trusted_device" };

export function amrOf(authMethods: readonly string[]): string[] {
  const amr = [...new Set(authMethods.map((m) => AMR[m]).filter((m): m is string => !!m))];
  // A passkey alone is two factors (the device, and the PIN or biometric that unlocks it: user
  // verification is required), as apps that ask for "mfa" expect.
  if (amr.length > 1 || amr.includes("hwk")) amr.push("mfa");
  return amr;
}

export function strengthOfAmr(amr: readonly string[] | undefined): AuthStrength {
  return authStrength((amr ?? []).map((m) => METHOD_OF_AMR[m]).filter((m): m is string => !!m));
}

// Authentication context classes (acr): what an app may ask for (acr_values, or a client's
// default_acr_values, which the provider puts there; the claims parameter is not enabled) and what
// the ID token's acr says the sign-in met. Weakest first; a
// stronger sign-in meets a weaker class. "phr" (phishing-resistant: a passkey) is OpenID EAP's name.
export const ACR_VALUES = ["pwd", "mfa", "phr"] as const;
type Acr = (typeof ACR_VALUES)[number];
const ACR_OF_STRENGTH: Record<AuthStrength, Acr> = { password: "pwd", mfa: "mfa", phishing_resistant: "phr" };
const STRENGTH_OF_ACR: Record<Acr, AuthStrength> = { pwd: "password", mfa: "mfa", phr: "phishing_resistant" };
const rank = (acr: Acr) => ACR_VALUES.indexOf(acr);
const knownAcrs = (asked: readonly string[]) => asked.filter((value): value is Acr => (ACR_VALUES as readonly string[]).includes(value));

/** The classes a request's acr_values parameter asks for (space-separated). */
export function acrValuesAsked(acrValues: unknown): string[] {
  return typeof acrValues === "string" ? acrValues.split(" ").filter(Boolean) : [];
}

/** The strength an app asks for: the weakest class it accepts among Gatehouse's; null if it names none of them. */
export function strengthAsked(asked: readonly string[]): AuthStrength | null {
  const weakest = knownAcrs(asked).sort((a, b) => rank(a) - rank(b))[0];
  return weakest ? STRENGTH_OF_ACR[weakest] : null;
}

export const strengthMeets = (strength: AuthStrength, needed: AuthStrength | null) => needed === null || rank(ACR_OF_STRENGTH[strength]) >= rank(ACR_OF_STRENGTH[needed]);

/** The acr of a sign-in of `strength`: the strongest class asked for that it meets (an app checks for one it asked), else its own. */
export function acrOf(strength: AuthStrength, asked: readonly string[]): Acr {
  return knownAcrs(asked).filter((acr) => rank(acr) <= rank(ACR_OF_STRENGTH[strength])).sort((a, b) => rank(b) - rank(a))[0] ?? ACR_OF_STRENGTH[strength];
}
