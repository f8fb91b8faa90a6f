"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState } from "react";
import { useBrowserValue } from "./browser-value";
import { newDraftId, saveFormDraft } from "./form-draft";
import { OK_TONE } from "./notice";
import type { ActionState } from "@/lib/auth/action";
import { confirmAddress } from "@/lib/util/confirm-address";

// The query string, read in the browser: step-up comes back to the page as it was (a console's
// filters, a sign-in step's callbackUrl). Not useSearchParams, which would need a Suspense boundary
// around every form on a page rendered ahead of time.
const queryString = () => window.location.search;

/** The outcome of a server action, announced to screen readers; offers step-up when the action asks for it. */
export function FormMessage({ state }: { state: ActionState }) {
  const pathname = usePathname();
  const query = useBrowserValue(queryString, "");
  const [draftId] = useState(newDraftId);
  if (!state.message) return null;
  const tone = state.ok ? OK_TONE : "border-red-200 bg-red-50 text-red-800";
  return (
    <p role={state.ok ? "status" : "alert"} data-testid="form-message" className={`rounded-md border px-3 py-2 text-sm ${tone}`}>
      {state.message}
      {state.stepUp && (
        <>
          {" "}
          {/* What was typed is kept for the way back, which names it (form-draft.ts). */}
          <Link className="font-medium underline" href={confirmAddress(`${pathname}${query}#draft=${draftId}`, state.stepUp === "passkey")} onClick={() => saveFormDraft(draftId)}>
            Verify now
          </Link>
        </>
      )}
    </p>
  );
}
