import { SectionTabs } from "@/components/shell/section-tabs";

const TABS = [
  { href: "/admin/users", label: "Users" },
  { href: "/admin/groups", label: "Groups" },
] as const;

export function UsersNav({ current }: { current: (typeof TABS)[number]["href"] }) {
  return <SectionTabs label="Users" tabs={TABS} current={current} />;
}
