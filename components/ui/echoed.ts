import type { ActionState } from "@/lib/auth/action";

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
