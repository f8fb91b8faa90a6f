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
