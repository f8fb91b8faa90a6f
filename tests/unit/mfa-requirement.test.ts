import { describe, expect, it } from "vitest";
import { signInRequirement } from "@/lib/mfa/requirement";

const base = { hasSecondFactor: false, hasPasskey: false, mfaRequired: false, trustedDevice: false };

describe("signInRequirement", () => {
  it("lets a user without factors in, unless their role or the risk requires one", () => {
    expect(signInRequirement(base)).toMatchObject({ stage: "active" });
    expect(signInRequirement({ ...base, mfaRequired: true })).toMatchObject({ stage: "enrollment_required", reason: "role_requires_mfa" });
    // Enrolling a first factor during a risky sign-in would give the account to whoever has the password.
    expect(signInRequirement({ ...base, minimum: "any" })).toEqual({ stage: "refused", reason: "second_factor_unavailable" });
    expect(signInRequirement({ ...base, mfaRequired: true, minimum: "any" })).toMatchObject({ stage: "refused" });
  });

  it("challenges a user with a factor, except on a trusted device", () => {
    const withTotp = { ...base, hasSecondFactor: true };
    expect(signInRequirement(withTotp)).toEqual({ stage: "mfa_required", requiredFactor: "any", reason: "has_second_factor" });
    expect(signInRequirement({ ...withTotp, trustedDevice: true })).toMatchObject({ stage: "active", reason: "trusted_device" });
  });

  it("risk or policy overrides the trusted device and can demand a passkey", () => {
    const trusted = { ...base, hasSecondFactor: true, trustedDevice: true };
    expect(signInRequirement({ ...trusted, minimum: "any" })).toMatchObject({ stage: "mfa_required", requiredFactor: "any" });
    expect(signInRequirement({ ...trusted, hasPasskey: true, minimum: "passkey" })).toMatchObject({ stage: "mfa_required", requiredFactor: "passkey" });
    // TOTP alone cannot satisfy a passkey requirement.
    expect(signInRequirement({ ...trusted, minimum: "passkey" })).toEqual({ stage: "refused", reason: "passkey_unavailable" });
  });

  it("a distrusted password (a new one required since it was set) needs a factor to prove who is there", () => {
    const distrusted = { ...base, passwordDistrusted: true };
    // Neither choosing the new password nor enrolling a first factor on the old one's word.
    expect(signInRequirement(distrusted)).toEqual({ stage: "refused", reason: "password_distrusted" });
    expect(signInRequirement({ ...distrusted, mfaRequired: true })).toEqual({ stage: "refused", reason: "password_distrusted" });
    // A remembered device does not skip the factor; risk can still ask for more.
    expect(signInRequirement({ ...distrusted, hasSecondFactor: true, trustedDevice: true })).toEqual({ stage: "mfa_required", requiredFactor: "any", reason: "password_distrusted" });
    expect(signInRequirement({ ...distrusted, hasSecondFactor: true, hasPasskey: true, minimum: "passkey" })).toMatchObject({ stage: "mfa_required", requiredFactor: "passkey" });
  });
});
