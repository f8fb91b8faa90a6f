import type { ActionState } from "@/lib/auth/action";

/** The outcome of a server action, announced to screen readers. */
export function FormMessage({ state }: { state: ActionState }) {
  if (!state.message) return null;
  const tone = state.ok ? "border-green-200 bg-green-50 text-green-800" : "border-red-200 bg-red-50 text-red-800";
  return (
    <p role={state.ok ? "status" : "alert"} data-testid="form-message" className={`rounded-md border px-3 py-2 text-sm ${tone}`}>
      {state.message}
    </p>
  );
}
