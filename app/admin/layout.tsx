import { AppShell } from "@/components/shell/app-shell";
import { requireConsole } from "@/lib/auth";

export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  const { user, sections } = await requireConsole();
  // The menu shows what this user may open; every page still checks for itself.
  const items = [{ href: "/admin", label: "Overview" }, ...sections.map((s) => ({ href: s.href, label: s.label }))];
  return (
    <AppShell user={user} showConsole nav={{ label: "Console", items }}>
      {children}
    </AppShell>
  );
}
