import { AppShell } from "@/components/shell/app-shell";
import { requireUser, viewableSections } from "@/lib/auth";

const ACCOUNT_NAV = [
  { href: "/account", label: "Profile" },
  { href: "/account/security", label: "Security" },
  { href: "/account/apps", label: "Connected apps" },
];

export default async function AccountLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  const consoleSections = await viewableSections(user);
  return (
    <AppShell user={user} showConsole={consoleSections.length > 0} nav={{ label: "Account", items: ACCOUNT_NAV }}>
      {children}
    </AppShell>
  );
}
