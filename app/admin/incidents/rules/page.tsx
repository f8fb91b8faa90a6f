import type { Metadata } from "next";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { RuleForm } from "@/components/incidents/rule-form";
import { canAccessAfterStepUp, requireAccess } from "@/lib/auth";
import { INCIDENT_TYPE_LABELS, RULES, RULE_KEYS, ruleSettings } from "@/lib/incidents";
import { saveRuleAction } from "../actions";
import { IncidentsNav } from "../incidents-nav";

export const metadata: Metadata = { title: "Detection rules" };

// Labels for the rules' own thresholds (lib/incidents/rules.ts names them).
const PARAM_LABELS: Record<string, string> = {
  minScore: "Score at least (0–1)",
  minFailures: "Failures at least",
  minAccounts: "Accounts at least",
  windowMinutes: "Within (minutes)",
  workdayStartHour: "Workday starts (hour, GATEHOUSE_TIME_ZONE)",
  workdayEndHour: "Workday ends (hour, GATEHOUSE_TIME_ZONE)",
  weekendsOff: "Weekends are outside working hours",
};

export default async function RulesPage() {
  const user = await requireAccess("incidents");
  const [settings, canEdit] = await Promise.all([ruleSettings(), canAccessAfterStepUp(user, { section: "policies", action: "manage" })]);
  return (
    <>
      <PageHeader title="Incidents" description="Detection reads every audit event once, in order, on one instance at a time; these rules turn events into alerts." />
      <IncidentsNav current="/admin/incidents/rules" />
      <div className="space-y-4">
        {!canEdit && <p className="text-sm text-slate-500">The policies do not let you change detection rules; you see them as they are.</p>}
        {RULE_KEYS.map((rule) => {
          const setting = settings[rule];
          return (
            <Card key={rule} title={RULES[rule].label} description={`${RULES[rule].description} Opens: ${INCIDENT_TYPE_LABELS[RULES[rule].type]}.`}>
              <RuleForm
                action={saveRuleAction}
                readOnly={!canEdit}
                setting={{
                  rule, enabled: setting.enabled, severity: setting.severity, joinWindowMinutes: setting.joinWindowMinutes,
                  params: Object.entries(setting.params).map(([name, value]) => ({ name, label: PARAM_LABELS[name] ?? name, value: value as string | number | boolean })),
                }}
              />
            </Card>
          );
        })}
      </div>
    </>
  );
}
