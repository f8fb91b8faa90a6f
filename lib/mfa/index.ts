// lib/mfa's public surface: second factors (TOTP, passkeys, backup codes), the rules for
// requiring them, and one verifier for the MFA step and step-up.
export { startTotpEnrollment, confirmTotpEnrollment, checkTotpCode, checkTotpSecretsSealed, TOTP_ISSUER, TOTP_SECRETS, type TotpEnrollment } from "./totp";
export { generateBackupCodes, NoSecondFactorError, consumeBackupCode, remainingBackupCodes, normalizeBackupCode, BACKUP_CODE_COUNT, BACKUP_CODES_LOW } from "./backup-codes";
export {
  passkeyRegistrationOptions, registerPasskey, passkeyAuthenticationOptions, passkeyOptionsForAddress, passkeyOptionsForSession, verifyPasskeyAssertion, renamePasskey, listPasskeys,
  MAX_CEREMONIES_PER_USER, CEREMONIES_PER_ADDRESS_PER_MINUTE, TOO_MANY_CEREMONIES,
  relyingParty, passkeyNameSchema, type PasskeyView,
} from "./passkeys";
export { authenticatorName } from "./authenticators";
export {
  factorSummary, secondFactors, secondFactorsOf, hasSecondFactor, canConfirmWith, HAS_SECOND_FACTOR, factorNames, withoutSecondFactor, mfaRequiredFor, mfaRequiredRoles, removeFactor, resetMfa,
  type FactorSummary, type SecondFactors,
} from "./factors";
export { signInRequirement, type SignInRequirement, type FactorStrength } from "./requirement";
export { verifySecondFactor, secondFactorProofSchema, type SecondFactorProof, type SecondFactorMethod } from "./verify";
export { FACTOR_FAILURE_LIMIT, factorLockedUntil, clearFactorFailures } from "./lockout";
