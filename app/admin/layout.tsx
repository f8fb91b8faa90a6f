import { AppHeader } from "@/components/shell/app-header";
import { SideNav } from "@/components/shell/side-nav";
import { requireConsole } from "@/lib/auth";

export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  const { user, sections } = await requireConsole();
  // The menu shows what this user may open; every page still checks for itself.
  const items = [{ href: "/admin", label: "Overview" }, ...sections.map((s) => ({ href: s.href, label: s.label }))];
  return (
    <>
      <AppHeader user={user} showConsole />
      <div className="mx-auto grid max-w-6xl gap-8 px-4 py-8 md:grid-cols-[200px_1fr]">
        <SideNav label="Console" items={items} />
        <main>{children}</main>
      </div>
    </>
  );
}
