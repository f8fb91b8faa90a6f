import { SectionTabs } from "@/components/shell/section-tabs";

const TABS = [
  { href: "/admin/risk", label: "Overview" },
  { href: "/admin/risk/ip-rules", label: "IP lists" },
  { href: "/admin/risk/settings", label: "Settings" },
] as const;

export function RiskNav({ current }: { current: (typeof TABS)[number]["href"] }) {
  return <SectionTabs label="Risk" tabs={TABS} current={current} />;
}
