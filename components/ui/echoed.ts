import type { ActionState } from "@/lib/auth/action";
import { SECRET_FIELD } from "@/lib/util/secret-fields";

type FormAction = (prev: ActionState, formData: FormData) => Promise<ActionState>;

/**
 * `action`, answering with what was sent (secrets left out) on success too, as a refusal already
 * does: for forms that show a result beside the question asked (a simulation, a dry run), which
 * React's reset after the action would otherwise put back to their defaults.
 */
export function echoingSent(action: FormAction): FormAction {
  return async (prev, formData) => {
    const sent = Object.fromEntries([...formData].filter((entry): entry is [string, string] => typeof entry[1] === "string" && !SECRET_FIELD.test(entry[0])));
    return { ...(await action(prev, formData)), values: sent };
  };
}

/**
 * The value a failed action echoed back for a field, to use as its defaultValue. A select reads
 * its defaultValue once, when mounted: give it that value as its key too, so an answer that echoes
 * another choice mounts it anew, or the form's reset after the action puts the old choice back.
 */
export function echoed(state: ActionState, name: string): string | undefined {
  const value = state.values?.[name];
  return typeof value === "string" ? value : undefined;
}

/** The values echoed back for a multi-value field (checkboxes). */
export function echoedAll(state: ActionState, name: string): string[] {
  return [state.values?.[name] ?? []].flat();
}

/**
 * Whether a checkbox was ticked when a refused action was sent, else `stored`: React resets a form
 * after every action, and an unticked box sends nothing (or only a hidden "false" beside it).
 */
export function echoedTicked(state: ActionState, name: string, stored: boolean): boolean {
  return state.values ? echoedAll(state, name).includes("on") : stored;
}
