import { SectionTabs } from "@/components/shell/section-tabs";

const TABS = [
  { href: "/admin/compliance", label: "Controls" },
  { href: "/admin/compliance/exceptions", label: "Exceptions" },
  { href: "/admin/compliance/access-reviews", label: "Access reviews" },
  { href: "/admin/compliance/report", label: "Auditor's report" },
] as const;

export function ComplianceNav({ current }: { current: (typeof TABS)[number]["href"] }) {
  return <SectionTabs label="Compliance" tabs={TABS} current={current} />;
}
