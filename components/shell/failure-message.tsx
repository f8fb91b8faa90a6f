"use client";
import { Button } from "@/components/ui/button";
import { StatusMessage, type StatusLink } from "./status-message";

/**
 * What an error boundary shows when a page fails unexpectedly: no error text (it may quote data),
 * the reference the server logged it under (Next's digest), and a retry.
 */
export function FailureMessage({ error, retry, links }: { error: unknown; retry: () => void; links: StatusLink[] }) {
  const digest = error instanceof Error && "digest" in error && typeof error.digest === "string" ? error.digest : null;
  return (
    <StatusMessage
      status={500}
      title="Something went wrong"
      links={links}
      action={
        <Button type="button" size="sm" onClick={() => retry()}>
          Try again
        </Button>
      }
    >
      This page could not be shown. Try again in a moment; if it keeps failing, give your administrator
      {digest ? <> the reference <code data-testid="error-reference">{digest}</code></> : " the time it happened"}.
    </StatusMessage>
  );
}
