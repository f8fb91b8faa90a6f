"use client";
import { useEffect } from "react";
import { restoreFormDraft } from "./form-draft";

/** Puts back what was typed on this page before step-up took the user to confirm it is them (form-draft.ts). */
export function FormDraftRestorer() {
  useEffect(restoreFormDraft, []);
  return null;
}
