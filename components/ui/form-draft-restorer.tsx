"use client";
import { useEffect } from "react";
import { usePathname } from "next/navigation";
import { forgetFormDraft, noteTouched, restoreFormDraft } from "./form-draft";

/**
 * Notes the fields a person changes, and puts them back on the way back from confirming it is
 * them (form-draft.ts). On the sign-in pages it forgets any draft: what one person typed is never
 * put back for whoever signs in next in the tab.
 */
export function FormDraftRestorer() {
  const pathname = usePathname();
  useEffect(() => {
    if (pathname.startsWith("/sign-in")) forgetFormDraft();
    else restoreFormDraft();
  }, [pathname]);
  useEffect(() => {
    document.addEventListener("input", noteTouched, true);
    document.addEventListener("change", noteTouched, true);
    return () => {
      document.removeEventListener("input", noteTouched, true);
      document.removeEventListener("change", noteTouched, true);
    };
  }, []);
  return null;
}
