import { StatusMessage } from "@/components/shell/status-message";

// A section this user's policies do not let them open; the layout has let them into the console,
// so its menu (which lists only what they may open) stays.
export default function ConsoleForbidden() {
  return (
    <StatusMessage status={403} title="You do not have access to this page" links={[{ href: "/admin", label: "Console overview" }, { href: "/account", label: "My account" }]}>
      The access policies do not let your account open this part of the console. Ask an admin if you need it.
    </StatusMessage>
  );
}
