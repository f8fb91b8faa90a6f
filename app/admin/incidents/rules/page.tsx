import type { Metadata } from "next";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { RuleForm } from "@/components/incidents/rule-form";
import { canAccessAfterStepUp, requireAccess } from "@/lib/auth";
import { INCIDENT_TYPE_LABELS, RULES, RULE_KEYS, ruleHistory, ruleSettings, type RuleHistory } from "@/lib/incidents";
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
  const [settings, history, canEdit] = await Promise.all([ruleSettings(), ruleHistory(), canAccessAfterStepUp(user, { section: "policies", action: "manage" })]);
  return (
    <>
      <PageHeader title="Incidents" description="Detection reads every audit event once, in order, on one instance at a time; these rules turn events into alerts. Every save is a new version of the rule, with who saved it and why." />
      <IncidentsNav current="/admin/incidents/rules" />
      <div className="space-y-4">
        {!canEdit && <p className="text-sm text-slate-500">The policies do not let you change detection rules; you see them as they are.</p>}
        {RULE_KEYS.map((rule) => {
          const setting = settings[rule];
          return (
            <Card key={rule} title={RULES[rule].label} description={`${RULES[rule].description} Opens: ${INCIDENT_TYPE_LABELS[RULES[rule].type]}. In force: ${inForce(history[rule])}.`}>
              <RuleForm
                action={saveRuleAction}
                readOnly={!canEdit}
                setting={{
                  rule, version: history[rule].version, enabled: setting.enabled, severity: setting.severity, joinWindowMinutes: setting.joinWindowMinutes,
                  params: Object.entries(setting.params).map(([name, value]) => ({ name, label: PARAM_LABELS[name] ?? name, value: value as string | number | boolean })),
                }}
              />
              <RuleVersions rule={RULES[rule].label} history={history[rule]} />
            </Card>
          );
        })}
      </div>
    </>
  );
}

function inForce(history: RuleHistory): string {
  if (history.version === 0) return "the built-in defaults";
  return history.readable ? `version ${history.version}` : `the built-in defaults (version ${history.version} cannot be read: save the rule again)`;
}

/** A rule's saved versions, newest first, each with who saved it, why, and what it changed. */
function RuleVersions({ rule, history }: { rule: string; history: RuleHistory }) {
  if (history.versions.length === 0) return null;
  const count = history.version === 1 ? "1 version" : `${history.version} versions`;
  return (
    <details className="mt-3 text-sm">
      <summary className="cursor-pointer text-slate-600">History ({history.versions.length < history.version ? `the newest ${history.versions.length} of ${count}` : count})</summary>
      <ul className="mt-2 divide-y divide-slate-100" aria-label={`History of ${rule}`}>
        {history.versions.map((v) => (
          <li key={v.version} className="py-2">
            <p className="font-medium text-slate-900">
              Version {v.version} · <LocalTime at={v.createdAt} /> · {v.author ?? "the system"} · <span className="font-normal text-slate-600">{v.comment || "(no comment: saved before changes were versioned)"}</span>
            </p>
            <p className="text-xs text-slate-500">{v.changes ? Object.entries(v.changes).map(([field, c]) => `${field}: ${c.from} → ${c.to}`).join("; ") || "no change" : "this version or the one before cannot be read"}</p>
          </li>
        ))}
      </ul>
    </details>
  );
}
