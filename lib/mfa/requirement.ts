// What a sign-in must prove beyond the password. One pure function, so the risk engine and the
// policy engine (later) raise the bar by passing `minimum`, and tests cover every combination.

export type FactorStrength = "none" | "any" | "passkey";

export type SignInRequirement =
  | { stage: "active"; reason: string }
  | { stage: "mfa_required"; requiredFactor: Exclude<FactorStrength, "none">; reason: string }
  | { stage: "enrollment_required"; reason: string }
  /**
   * Risk or policy asks for a factor the account does not have, or the password is distrusted and
   * there is no factor to prove who is there: enrolling one, or choosing a new password, would
   * hand the account to whoever holds the password.
   */
  | { stage: "refused"; reason: "second_factor_unavailable" | "passkey_unavailable" | "password_distrusted" };

export type RequirementInput = {
  /** The account's factors. */
  hasSecondFactor: boolean;
  hasPasskey: boolean;
  /** The user's roles make a second factor mandatory. */
  mfaRequired: boolean;
  /** This browser was remembered after an MFA step and the trust has not expired or been revoked. */
  trustedDevice: boolean;
  /** Set by risk or policy: "any" forces the MFA step even on a trusted device, "passkey" demands a phishing-resistant factor. */
  minimum?: FactorStrength;
  /** A new password was required since this one was set (an incident): others may know it. */
  passwordDistrusted?: boolean;
};

export function signInRequirement(input: RequirementInput): SignInRequirement {
  // A distrusted password proves nothing: a factor must, even on a remembered device.
  const asked = input.minimum ?? "none";
  const minimum = input.passwordDistrusted && asked === "none" ? "any" : asked;
  if (!input.hasSecondFactor) {
    if (input.passwordDistrusted) return { stage: "refused", reason: "password_distrusted" };
    if (minimum !== "none") return { stage: "refused", reason: minimum === "passkey" ? "passkey_unavailable" : "second_factor_unavailable" };
    return input.mfaRequired ? { stage: "enrollment_required", reason: "role_requires_mfa" } : { stage: "active", reason: "no_second_factor" };
  }
  if (minimum === "passkey") {
    return input.hasPasskey
      ? { stage: "mfa_required", requiredFactor: "passkey", reason: "phishing_resistant_required" }
      : { stage: "refused", reason: "passkey_unavailable" };
  }
  if (input.trustedDevice && minimum === "none") return { stage: "active", reason: "trusted_device" };
  const reason = input.passwordDistrusted ? "password_distrusted" : minimum === "any" ? "risk_or_policy" : "has_second_factor";
  return { stage: "mfa_required", requiredFactor: "any", reason };
}
