"use client";
import { useEffect } from "react";
import type { ActionState } from "@/lib/auth/action";

/**
 * Follows an action's `data.redirectTo` with a full page load. Used after sign-in steps: a server
 * redirect would render the next page inside the sign-in POST, whose cookies are not that page's
 * (the provider's interaction cookie is scoped to the interaction's path).
 */
export function useFollowRedirect(state: ActionState): boolean {
  const redirectTo = state.ok ? (state.data as { redirectTo?: string } | undefined)?.redirectTo : undefined;
  useEffect(() => {
    if (redirectTo) window.location.assign(redirectTo);
  }, [redirectTo]);
  return !!redirectTo;
}
