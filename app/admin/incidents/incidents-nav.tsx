import { SectionTabs } from "@/components/shell/section-tabs";

const TABS = [
  { href: "/admin/incidents", label: "Incidents" },
  { href: "/admin/incidents/playbooks", label: "Playbooks" },
  { href: "/admin/incidents/rules", label: "Detection rules" },
  { href: "/admin/incidents/channels", label: "Notification channels" },
] as const;

export function IncidentsNav({ current }: { current: (typeof TABS)[number]["href"] }) {
  return <SectionTabs label="Incidents" tabs={TABS} current={current} />;
}
