import { StatusMessage } from "@/components/shell/status-message";

export default function NotFound() {
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <StatusMessage status={404} title="Page not found" links={[{ href: "/account", label: "Back to my account" }]} />
    </main>
  );
}
