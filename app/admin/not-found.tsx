import { StatusMessage } from "@/components/shell/status-message";

// Inside the console's layout: its menu stays, and the way back is the console.
export default function ConsoleNotFound() {
  return (
    <StatusMessage status={404} title="Page not found" links={[{ href: "/admin", label: "Console overview" }, { href: "/account", label: "My account" }]}>
      Nothing in the console is at this address. What it pointed to may have been deleted, or the link is incomplete.
    </StatusMessage>
  );
}
