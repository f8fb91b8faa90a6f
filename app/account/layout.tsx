import { AppHeader } from "@/components/shell/app-header";
import { SideNav } from "@/components/shell/side-nav";
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
    <>
      <AppHeader user={user} showConsole={consoleSections.length > 0} />
      <div className="mx-auto grid max-w-6xl gap-8 px-4 py-8 md:grid-cols-[200px_1fr]">
        <SideNav label="Account" items={ACCOUNT_NAV} />
        <main>{children}</main>
      </div>
    </>
  );
}
