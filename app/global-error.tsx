"use client";
import "./globals.css";
import { FailureMessage } from "@/components/shell/failure-message";

// Replaces the root layout when the layout itself fails: it brings its own document and styles.
export default function AppFailed({ error, retry }: { error: unknown; retry: () => void }) {
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">
        <title>Something went wrong · Gatehouse</title>
        <main className="flex min-h-screen items-center justify-center px-4">
          <FailureMessage error={error} retry={retry} links={[{ href: "/account", label: "My account" }]} />
        </main>
      </body>
    </html>
  );
}
