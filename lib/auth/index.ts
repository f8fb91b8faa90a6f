// lib/auth's public surface: what pages, actions and other domains may call.
export { currentUser, currentPendingSignIn, pendingStageUrl, requireUser, hasFreshMfa, type CurrentUser, type PendingSignIn, type PendingStage } from "./current";
export { requireAccess, requireConsole, canAccess, checkAccess, canAccessAfterStepUp, viewableSections, tokenIssuanceDecision, tokenIssuanceAfterPasskey, consoleSubject, type ConsoleAccess } from "./access";
export { completeMfaStep, stepUp, afterFactorEnrolled } from "./mfa-step";
export { guardedAction, manyValues, leaveTo, type ActionState } from "./action";
export { reauthenticateWithPassword, passwordRefused } from "./reauthenticate";
export { signIn, signOut, handlers, ThrottledSignIn, RefusedSignIn, renewSessionCookie } from "./next-auth";
export { checkSignInThrottle, signInLockedUntil } from "./throttle";
export { credentialsSchema, passkeySignInSchema } from "./sign-in";
export { sessionLimitsText } from "./live-session";
export { listActiveSessions, endSession, endAllSessions, sessionAuthentication, sessionStatus, reportUnrecognizedSignIn } from "./sessions";
export { routeCaller, problem } from "./route-guard";
export {
  createUser, actingOnRefusal, actorChanged, type Granter, listUsers, findUser, listActiveAdmins, listActiveUsersWithRole, listIdleActiveUsers, findPrincipalByEmail, userEmails, setRoles, setDisabled, unlockSignIn, setTemporaryPassword, updateName, changeEmail, deleteUser, changePassword, resetUserMfa,
  completeRequiredPasswordChange, userListFiltersSchema, newUserSchema, emailSchema, nameSchema, rolesSchema, EmailTakenError, LastAdminError, NoSuchUserError, RoleGrantError, USERS_PAGE_SIZE,
} from "./users";
export { newPasswordSchema, newPasswordPairSchema, MIN_PASSWORD_LENGTH, type PasswordState } from "./password";
export { PasswordRefusedError } from "./password-screening";
export { requestPasswordRecovery, recoveryLinkAccount, resetPasswordWithLink, recoveryAvailable, recoveryRequestSchema } from "./recovery";
export { sendEmailVerification, verifyEmailWithLink, emailVerificationLinkAddress, emailVerifiedAt, emailVerificationAvailable } from "./email-verification";
export { ensureFirstAdminPath, isSetupTokenUsable, redeemSetupToken } from "./first-admin";
export { ROLES, ROLE_DESCRIPTIONS, ADMIN_SECTIONS, sectionFor, type RoleName } from "./roles";
