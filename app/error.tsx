"use client";
import { FailureMessage } from "@/components/shell/failure-message";

export default function PageFailed({ error, retry }: { error: unknown; retry: () => void }) {
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <FailureMessage error={error} retry={retry} links={[{ href: "/account", label: "My account" }]} />
    </main>
  );
}
