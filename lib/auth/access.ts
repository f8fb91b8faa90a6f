import "server-only";
import { cache } from "react";
import { forbidden, redirect } from "next/navigation";
import { authStrength, authorize, consoleAllows, consoleRequest, type AuthStrength, type ConsoleAction, type ConsoleSection, type ConsoleSubject, type Decision, type PolicyClient } from "../policy";
import { requestContext, requestPath } from "../http/request-context";
import { confirmAddress } from "../util/confirm-address";
import { audit, userContext } from "../audit/context";
import { requireUser, type CurrentUser } from "./current";
import { hasFreshMfa, policySubject, tokenIssuanceDecisionAt } from "./session-user";
import { ADMIN_SECTIONS, type AdminSection } from "./roles";
import { hasSecondFactor, secondFactors } from "../mfa";

// Every console page, route and server action asks the decision point (lib/policy) whether this
// user may view or manage this section, with how they signed in and from where. Nothing in the
// console checks roles directly: the built-in policies grant the roles, and admins can change them.

export type ConsoleAccess = { section: ConsoleSection; action: ConsoleAction };

export async function consoleSubject(user: CurrentUser): Promise<ConsoleSubject> {
  return policySubject(user, (await requestContext()).ip);
}

/** The policies' decision on this user doing this now, and the subject they were asked about. */
async function decisionNow(user: CurrentUser, { section, action }: ConsoleAccess): Promise<{ subject: ConsoleSubject; decision: Decision }> {
  const subject = await consoleSubject(user);
  return { subject, decision: await authorize(consoleRequest(subject, section, action)) };
}

/** May this user do this now? For showing or hiding controls; guards use checkAccess. */
export async function canAccess(user: CurrentUser, access: ConsoleAccess): Promise<boolean> {
  return (await decisionNow(user, access)).decision.decision === "allow";
}

/**
 * Would the policies let this user do this once they confirm a second factor (step-up)? For
 * showing the controls of an action a policy allows only with fresh MFA, or only with a passkey:
 * the action then asks for the step-up (guardedAction) instead of refusing.
 */
export async function canAccessAfterStepUp(user: CurrentUser, access: ConsoleAccess): Promise<boolean> {
  return (await accessNow(user, access)).verdict !== "deny";
}

/** Allowed now; allowed once the user confirms a second factor (any, or only a passkey will do); or not. */
export type AccessNow = "allow" | "step-up" | "step-up-passkey" | "deny";

const STRENGTH_ORDER: AuthStrength[] = ["password", "mfa", "phishing_resistant"];
const atLeast = (strength: AuthStrength, floor: AuthStrength) => (STRENGTH_ORDER.indexOf(strength) >= STRENGTH_ORDER.indexOf(floor) ? strength : floor);

async function accessNow(user: CurrentUser, access: ConsoleAccess): Promise<{ verdict: AccessNow; subject: ConsoleSubject; decision: Decision }> {
  const now = await decisionNow(user, access);
  return { ...now, verdict: now.decision.decision === "allow" ? "allow" : await confirmationThatOpens(user, now.subject, access) };
}

/** What confirming it is them would let a refused user in: a fresh second factor, only a passkey, or nothing. */
async function confirmationThatOpens(user: CurrentUser, subject: ConsoleSubject, { section, action }: ConsoleAccess): Promise<Exclude<AccessNow, "allow">> {
  // Confirmed already at least this strongly: confirming again changes nothing the policies see.
  const confirmed = (strength: AuthStrength) => subject.mfaFresh && atLeast(subject.authStrength, strength) === subject.authStrength;
  // The session once confirmed: fresh, and at least as strong as the factor shown (a passkey adds
  // phishing resistance to a session that began with a code: lib/policy authStrength).
  const opens = (strength: AuthStrength) => consoleAllows({ ...subject, mfaFresh: true, authStrength: atLeast(subject.authStrength, strength) }, section, action);
  // Without a second factor, confirming means the password, which makes no MFA fresh: no way in.
  if (!confirmed("mfa") && (await opens("mfa"))) return hasSecondFactor(await secondFactors(user.id)) ? "step-up" : "deny";
  if (!confirmed("phishing_resistant") && (await opens("phishing_resistant"))) return (await secondFactors(user.id)).passkeys > 0 ? "step-up-passkey" : "deny";
  return "deny";
}

/**
 * accessNow for a page, route or action the user asked for: a refusal (not a step-up to ask for)
 * is an audit event (access.denied).
 */
export async function checkAccessOrStepUp(user: CurrentUser, access: ConsoleAccess): Promise<AccessNow> {
  const { verdict, subject, decision } = await accessNow(user, access);
  if (verdict === "deny") await auditDenial(user, access, subject, decision);
  return verdict;
}

/** canAccess for a page, route or action the user asked for: a refusal is an audit event (access.denied). */
export async function checkAccess(user: CurrentUser, access: ConsoleAccess): Promise<boolean> {
  const { subject, decision } = await decisionNow(user, access);
  if (decision.decision === "allow") return true;
  await auditDenial(user, access, subject, decision);
  return false;
}

/** A refusal on the record with the decision behind it: which policies forbade it (none: nothing permitted it) under which version. */
async function auditDenial(user: CurrentUser, access: ConsoleAccess, subject: ConsoleSubject, { decision, policies, version }: Decision) {
  await audit(userContext(user, await requestContext()), {
    type: "policy", action: "access.denied", outcome: "blocked", resource: { type: "console", id: access.section }, metadata: { action: access.action },
    riskScore: subject.risk, policyDecisions: [{ action: access.action, decision, policies, version }],
  });
}

/**
 * For pages: signed out → sign-in; allowed once the user confirms a second factor (a policy asks
 * for a fresh one, or for a passkey) → the confirmation, and back; not allowed → the 403 page.
 */
export async function requireAccess(section: ConsoleSection, action: ConsoleAction = "view"): Promise<CurrentUser> {
  const user = await requireUser();
  const verdict = await checkAccessOrStepUp(user, { section, action });
  if (verdict === "deny") forbidden();
  if (verdict !== "allow") redirect(confirmAddress(await requestPath(), verdict === "step-up-passkey"));
  return user;
}

/** The console sections this user may view now, in menu order (once per request). */
export const viewableSections = cache(async (user: CurrentUser): Promise<AdminSection[]> => {
  const subject = await consoleSubject(user);
  const allowed = await Promise.all(ADMIN_SECTIONS.map((s) => consoleAllows(subject, s.id, "view")));
  return ADMIN_SECTIONS.filter((_, i) => allowed[i]);
});

/**
 * For the console's layout and home: signed in, and allowed to view at least one section; when a
 * confirmation of a second factor would open one (a policy asks for a fresh one, or a passkey), to
 * that confirmation first, as requireAccess does for a page.
 */
export async function requireConsole(): Promise<{ user: CurrentUser; sections: AdminSection[] }> {
  const user = await requireUser();
  const sections = await viewableSections(user);
  if (sections.length > 0) return { user, sections };
  const verdicts = await Promise.all(ADMIN_SECTIONS.map(async (s) => (await accessNow(user, { section: s.id, action: "view" })).verdict));
  if (verdicts.includes("step-up")) redirect(confirmAddress(await requestPath(), false));
  if (verdicts.includes("step-up-passkey")) redirect(confirmAddress(await requestPath(), true));
  forbidden();
}

/**
 * Would confirming with a passkey (the user has one) let this client have tokens for this user? The
 * app's login page then asks for it instead of sending the user back refused (a policy that gives
 * an app tokens only after a phishing-resistant sign-in).
 */
export async function tokenIssuanceAfterPasskey(user: CurrentUser, client: PolicyClient): Promise<boolean> {
  if (authStrength(user.authMethods) === "phishing_resistant" && hasFreshMfa(user)) return false;
  if ((await secondFactors(user.id)).passkeys === 0) return false;
  const confirmed: CurrentUser = { ...user, authMethods: [...user.authMethods, "passkey"], mfaVerifiedAt: new Date() };
  return (await tokenIssuanceDecision(confirmed, client)).decision === "allow";
}

/** May `clientId` get tokens for this user now (action issueToken)? Asked when an OAuth login completes. */
export async function tokenIssuanceDecision(user: CurrentUser, client: PolicyClient): Promise<Decision> {
  return tokenIssuanceDecisionAt(user, client, (await requestContext()).ip);
}
