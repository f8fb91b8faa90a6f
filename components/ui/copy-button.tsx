"use client";
import { useState } from "react";
import { Button } from "./button";

type Outcome = "idle" | "copied" | "failed";
const LABELS: Record<Outcome, string> = { idle: "Copy", copied: "Copied", failed: "Copy failed: select the text" };

/**
 * Copies `value` to the clipboard; `what` names it for screen readers ("client id"). The browser
 * offers the clipboard on https and localhost only: elsewhere the button says to select the text.
 */
export function CopyButton({ value, what }: { value: string; what: string }) {
  const [outcome, setOutcome] = useState<Outcome>("idle");
  const copy = () => {
    const done = (result: Outcome) => {
      setOutcome(result);
      setTimeout(() => setOutcome("idle"), 2_000);
    };
    if (!navigator.clipboard) return done("failed");
    navigator.clipboard.writeText(value).then(() => done("copied"), () => done("failed"));
  };
  return (
    <Button type="button" variant="secondary" size="sm" onClick={copy} aria-label={`Copy ${what}`}>
      <span aria-live="polite">{LABELS[outcome]}</span>
    </Button>
  );
}
