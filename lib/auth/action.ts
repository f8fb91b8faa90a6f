import "server-only";
import { headers } from "next/headers";
import { randomUUID } from "node:crypto";
import { redirect, unstable_rethrow } from "next/navigation";
import { z } from "zod";
import { requestContext } from "../http/request-context";
import { SECRET_FIELD } from "../util/secret-fields";
import { currentPendingSignIn, currentUser, hasFreshMfa, type CurrentUser } from "./current";
import { hasFreshPassword } from "./session-user";
import { endSession } from "./sessions";
import { hasSecondFactor, secondFactors } from "../mfa";
import { userContext, type AuditContext } from "../audit/context";
import { checkAccessOrStepUp, type ConsoleAccess } from "./access";

// Every server action goes through guardedAction: who may call it is checked on the server,
// and its input is validated with zod before any domain code runs.

export type ActionState = {
  ok?: boolean;
  message?: string;
  fieldErrors?: Record<string, string[] | undefined>;
  /** On failure: what was submitted (secrets left out), so the form can show it again. */
  values?: Record<string, string | string[]>;
  /** The action needs the user to confirm it is them first (see /account/confirm); "passkey": only a passkey will do (a policy asks for phishing resistance). */
  stepUp?: boolean | "passkey";
  /** Output for the page that called the action (WebAuthn options, codes shown once to their owner). */
  data?: unknown;
};


// Long enough for the longest field a form takes (a playbook's steps): a value cut short would
// come back broken, and the next save would fail on what the cut left.
const ECHO_MAX_CHARS = 20_000;

function echoValues(formData: FormData): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(formDataToObject(formData))) {
    if (SECRET_FIELD.test(key)) continue;
    const strings = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string").map((v) => v.slice(0, ECHO_MAX_CHARS));
    values[key] = strings.length === 1 ? strings[0]! : strings;
  }
  return values;
}

// "account-setup": signed in, or half-way through a sign-in that must enroll a factor first.
// A console section and action: the decision point must allow it (lib/auth/access.ts).
type Access = "public" | "signed-in" | "account-setup" | ConsoleAccess;
/**
 * stepUp: the action needs the user to have confirmed it is them in the last few minutes: with a
 * second factor if they have one, else with their password. "second-factor-only": the form asks
 * for the password itself, so only a user with a second factor must also prove it. "second-factor":
 * only a second factor will do, and a user without one is refused (a fresh password is not enough
 * for publishing the access policies). An account without a factor can still enrol one on its
 * password alone, as every first enrollment is; its owner is mailed when it does. A function
 * decides by the validated input, for actions that are sensitive one way only (enabling an
 * account, not disabling it).
 */
type StepUp = boolean | "second-factor-only" | "second-factor";
/**
 * askReason: the caller says why (the form field "reason", which ActionButton's askReason sends),
 * recorded as the justification of every audit event the action writes (SOC 2 CC6.2 asks why
 * access changed).
 */
type Options<I> = { stepUp?: StepUp | ((input: I) => boolean | Promise<boolean>); askReason?: boolean };

const SAY_WHY = "Say why: it goes into the audit trail.";
const reasonSchema = z.string({ error: SAY_WHY }).trim().min(3, SAY_WHY).max(500);

/** `ctx` is who is acting and from where, for the audit events the handler's domain calls write. */
type Handler<S extends z.ZodType, U> = (input: z.infer<S>, user: U, ctx: AuditContext) => Promise<ActionState>;

export function formDataToObject(formData: FormData): Record<string, FormDataEntryValue | FormDataEntryValue[]> {
  const result: Record<string, FormDataEntryValue | FormDataEntryValue[]> = {};
  for (const key of new Set(formData.keys())) {
    if (key.startsWith("$ACTION")) continue; // Next's own fields
    // "__proto__" would set the object's prototype (a File's getters then answer for "name"…).
    if (key === "__proto__") continue;
    const values = formData.getAll(key);
    result[key] = values.length > 1 ? values : values[0]!;
  }
  return result;
}

/** A form field that may be absent, one value or several: always an array. */
export const manyValues = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(item));

export function guardedAction<S extends z.ZodType>(access: "public", schema: S, handler: Handler<S, CurrentUser | null>): (prev: ActionState, formData: FormData) => Promise<ActionState>;
export function guardedAction<S extends z.ZodType>(access: Exclude<Access, "public">, schema: S, handler: Handler<S, CurrentUser>, options?: Options<z.infer<S>>): (prev: ActionState, formData: FormData) => Promise<ActionState>;
export function guardedAction<S extends z.ZodType>(access: Access, schema: S, handler: Handler<S, never>, options: Options<z.infer<S>> = {}) {
  return async (_prev: ActionState, formData: FormData): Promise<ActionState> => {
    // Forms send FormData; a forged call may send anything.
    if (!(formData instanceof FormData)) return { ok: false, message: "Send this as a form." };
    const signedIn = await currentUser();
    const enrolling = access === "account-setup" && !signedIn ? await enrollingUser() : null;
    const user = signedIn ?? enrolling;
    if (access !== "public") {
      if (!user) return { ok: false, message: "Your session has ended. Sign in again." };
      const verdict = typeof access === "string" ? "allow" : await checkAccessOrStepUp(user, access);
      // Refused for want of a fresh second factor (a policy on context.mfaFresh or authStrength): ask for it.
      if (verdict === "step-up") return { ok: false, stepUp: true, message: "Confirm it is you to continue.", values: echoValues(formData) };
      if (verdict === "step-up-passkey") return { ok: false, stepUp: "passkey", message: "The access policies ask for a passkey for this: confirm with yours to continue.", values: echoValues(formData) };
      if (verdict === "deny") return { ok: false, message: "The access policies do not allow you to do this." };
    }
    const input = formDataToObject(formData);
    // PostgreSQL cannot store NUL in text: refused here, for every action, with the field named.
    const withNul = Object.entries(input).filter(([, v]) => [v].flat().some((x) => typeof x === "string" && x.includes("\u0000")));
    if (withNul.length) {
      return { ok: false, message: "Check the highlighted fields.", fieldErrors: Object.fromEntries(withNul.map(([k]) => [k, ["Remove the NUL character."]])), values: echoValues(formData) };
    }
    const parsed = schema.safeParse(input);
    const reason = options.askReason ? reasonSchema.safeParse(input.reason) : null;
    if (!parsed.success || reason?.success === false) {
      return {
        ok: false,
        message: "Check the highlighted fields.",
        fieldErrors: {
          ...(parsed.success ? {} : z.flattenError(parsed.error).fieldErrors),
          ...(reason?.success === false ? { reason: reason.error.issues.map((issue) => issue.message) } : {}),
        },
        values: echoValues(formData),
      };
    }
    const stepUp = typeof options.stepUp === "function" ? await options.stepUp(parsed.data) : options.stepUp;
    // A sign-in waiting for enrollment is minutes old and began with the password: that is its step-up.
    const proof = user && stepUp && !enrolling ? await stepUpVerdict(user, stepUp) : "ok";
    if (proof === "step-up") return { ok: false, stepUp: true, message: "Confirm it is you to continue.", values: echoValues(formData) };
    if (proof === "no-factor") return { ok: false, message: "This needs a second factor, and your account has none: set one up under Account → Security first.", values: echoValues(formData) };
    const client = await requestContext();
    const ctx: AuditContext = { ...(user ? userContext(user, client) : { actor: { type: "user", id: null, label: null }, client }), ...(reason?.success ? { justification: reason.data } : {}) };
    let result: ActionState;
    try {
      result = await (handler as Handler<S, CurrentUser | null>)(parsed.data, user, ctx);
    } catch (error) {
      unstable_rethrow(error); // redirect() and notFound() are Next's control flow, not failures
      return { ok: false, message: failureMessage(error), values: echoValues(formData) };
    }
    if (result.ok !== false) return result;
    // Field errors are shown beside their fields; the message is what screen readers announce.
    const message = result.message ?? (result.fieldErrors ? "Check the highlighted fields." : undefined);
    return { values: echoValues(formData), ...result, message };
  };
}

/**
 * An unexpected failure (the database gone, a bug): the form keeps what was typed and says so,
 * with a reference that finds the log line. Only the error's kind and first line are logged:
 * a database error's later lines may quote the values sent, secrets included.
 */
function failureMessage(error: unknown): string {
  const reference = randomUUID().slice(0, 8);
  const code = typeof error === "object" && error !== null && "code" in error ? ` ${String(error.code)}` : "";
  const summary = error instanceof Error ? `${error.name}${code}: ${error.message.split("\n")[0]!.slice(0, 200)}` : typeof error;
  console.error(`[action] failed, reference ${reference}: ${summary}`);
  return `Something failed on our side, and this may not have been done. Try again; if it keeps failing, give your administrator the reference ${reference}.`;
}

async function enrollingUser(): Promise<CurrentUser | null> {
  const pending = await currentPendingSignIn();
  if (pending?.stage !== "enrollment_required") return null;
  // The account got a second factor since this password-only sign-in began (its owner, from another
  // session): it must now pass that factor, not enroll one of its own around it.
  if (hasSecondFactor(await secondFactors(pending.id))) {
    await endSession(pending.id, pending.sessionId, "factor_enrolled_elsewhere", userContext(pending, await requestContext()));
    return null;
  }
  return pending;
}

// A user with a second factor proves it is them with it; one without has only the password
// (unless only a second factor will do).
async function stepUpVerdict(user: CurrentUser, stepUp: StepUp): Promise<"ok" | "step-up" | "no-factor"> {
  if (hasFreshMfa(user)) return "ok";
  if (hasSecondFactor(await secondFactors(user.id))) return "step-up";
  if (stepUp === "second-factor") return "no-factor";
  return stepUp === "second-factor-only" || hasFreshPassword(user) ? "ok" : "step-up";
}

/**
 * Ends a sign-in step by sending the browser to `path` with a full page load. With JavaScript
 * running (the action was called with a Next-Action header) the page follows data.redirectTo
 * (components/ui/follow-redirect.ts); a form posted before hydration gets a real 303 instead.
 */
export async function leaveTo(path: string): Promise<ActionState> {
  if (!(await headers()).get("next-action")) redirect(path);
  return { ok: true, data: { redirectTo: path } };
}
