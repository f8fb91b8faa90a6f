"use client";
import { FailureMessage } from "@/components/shell/failure-message";

// Inside the console's layout: its menu stays, so the rest of the console is one click away.
export default function ConsolePageFailed({ error, retry }: { error: unknown; retry: () => void }) {
  return <FailureMessage error={error} retry={retry} links={[{ href: "/admin", label: "Console overview" }, { href: "/account", label: "My account" }]} />;
}
