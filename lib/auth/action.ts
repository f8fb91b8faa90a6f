import "server-only";
import { z } from "zod";
import { requestContext } from "../http/request-context";
import { currentUser, type CurrentUser } from "./current";
import { userContext, type AuditContext } from "./audit-context";
import { hasAnyRole, type RoleName } from "./roles";

// Every server action goes through guardedAction: who may call it is checked on the server,
// and its input is validated with zod before any domain code runs.

export type ActionState = {
  ok?: boolean;
  message?: string;
  fieldErrors?: Record<string, string[] | undefined>;
  /** On failure: what was submitted (secrets left out), so the form can show it again. */
  values?: Record<string, string | string[]>;
};

// Never echoed back to the browser.
const SECRET_FIELD = /password|token|secret|code/i;

function echoValues(formData: FormData): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(formDataToObject(formData))) {
    if (SECRET_FIELD.test(key)) continue;
    const strings = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string").map((v) => v.slice(0, 1000));
    values[key] = strings.length === 1 ? strings[0]! : strings;
  }
  return values;
}

type Access = "public" | "signed-in" | readonly RoleName[];

/** `ctx` is who is acting and from where, for the audit events the handler's domain calls write. */
type Handler<S extends z.ZodType, U> = (input: z.infer<S>, user: U, ctx: AuditContext) => Promise<ActionState>;

export function formDataToObject(formData: FormData): Record<string, FormDataEntryValue | FormDataEntryValue[]> {
  const result: Record<string, FormDataEntryValue | FormDataEntryValue[]> = {};
  for (const key of new Set(formData.keys())) {
    if (key.startsWith("$ACTION")) continue; // Next's own fields
    const values = formData.getAll(key);
    result[key] = values.length > 1 ? values : values[0]!;
  }
  return result;
}

/** A form field that may be absent, one value or several: always an array. */
export const manyValues = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(item));

export function guardedAction<S extends z.ZodType>(access: "public", schema: S, handler: Handler<S, CurrentUser | null>): (prev: ActionState, formData: FormData) => Promise<ActionState>;
export function guardedAction<S extends z.ZodType>(access: Exclude<Access, "public">, schema: S, handler: Handler<S, CurrentUser>): (prev: ActionState, formData: FormData) => Promise<ActionState>;
export function guardedAction<S extends z.ZodType>(access: Access, schema: S, handler: Handler<S, never>) {
  return async (_prev: ActionState, formData: FormData): Promise<ActionState> => {
    const user = await currentUser();
    if (access !== "public") {
      if (!user) return { ok: false, message: "Your session has ended. Sign in again." };
      if (access !== "signed-in" && !hasAnyRole(user.roles, access)) {
        return { ok: false, message: "You do not have permission to do this." };
      }
    }
    const parsed = schema.safeParse(formDataToObject(formData));
    if (!parsed.success) {
      return {
        ok: false,
        message: "Check the highlighted fields.",
        fieldErrors: z.flattenError(parsed.error).fieldErrors,
        values: echoValues(formData),
      };
    }
    const client = await requestContext();
    const ctx: AuditContext = user ? userContext(user, client) : { actor: { type: "user", id: null, label: null }, client };
    const result = await (handler as Handler<S, CurrentUser | null>)(parsed.data, user, ctx);
    return result.ok === false ? { values: echoValues(formData), ...result } : result;
  };
}
