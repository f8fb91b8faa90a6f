import type { Metadata } from "next";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { canAccessAfterStepUp, requireAccess } from "@/lib/auth";
import { currentRiskSettings, listRiskSettingsVersions } from "@/lib/risk";
import { RiskNav } from "../risk-nav";
import { RiskSettingsForm } from "./settings-form";

export const metadata: Metadata = { title: "Risk settings" };

export default async function RiskSettingsPage() {
  const user = await requireAccess("risk");
  const [{ version, settings, unreadable }, history] = await Promise.all([currentRiskSettings(), listRiskSettingsVersions()]);
  // The same question the save action asks (lib/policy), not a role check of its own.
  const readOnly = !(await canAccessAfterStepUp(user, { section: "policies", action: "manage" }));
  return (
    <>
      <PageHeader title="Sign-in risk" description="How attempts are scored. Every save is a new version, applied at once on every instance and audited." />
      <RiskNav current="/admin/risk/settings" />
      <div className="space-y-6">
        <Card title={`Settings in force: version ${version}${version === 0 ? " (built-in defaults)" : ""}${unreadable ? `: version ${unreadable} cannot be read, save again` : ""}`} description={readOnly ? "The access policies do not let you change these (admins only, by default)." : "Saving asks for a fresh second factor."}>
          <RiskSettingsForm settings={settings} version={unreadable ?? version} readOnly={readOnly} />
        </Card>
        <Card title="History">
          {history.length === 0 ? (
            <p className="text-sm text-slate-500">No saved versions: the built-in defaults apply.</p>
          ) : (
            <ul className="divide-y divide-slate-100 text-sm" data-testid="settings-history">
              {history.map((v) => (
                <li key={v.version} className="py-2">
                  <p className="font-medium text-slate-900">
                    Version {v.version} · <LocalTime at={v.createdAt} /> · <span className="font-normal text-slate-600">{v.comment}</span>
                  </p>
                  {v.changes && (
                    <p className="text-xs text-slate-500">
                      {Object.entries(v.changes).map(([path, c]) => `${path}: ${c.from} → ${c.to}`).join("; ") || "no change"}
                    </p>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}
