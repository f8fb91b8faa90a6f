import type { ActionState } from "@/lib/auth/action";

/** The value a failed action echoed back for a text field, to use as its defaultValue. */
export function echoed(state: ActionState, name: string): string | undefined {
  const value = state.values?.[name];
  return typeof value === "string" ? value : undefined;
}

/** The values echoed back for a multi-value field (checkboxes). */
export function echoedAll(state: ActionState, name: string): string[] {
  return [state.values?.[name] ?? []].flat();
}
