import { StatusMessage } from "@/components/shell/status-message";

// Reached when the console's layout refuses (the user may open no section at all), so there is no
// console to go back to.
export default function Forbidden() {
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <StatusMessage status={403} title="You do not have access to this page" links={[{ href: "/account", label: "Back to my account" }]}>
        Your account does not hold a role that allows it. Ask an admin if you need access.
      </StatusMessage>
    </main>
  );
}
