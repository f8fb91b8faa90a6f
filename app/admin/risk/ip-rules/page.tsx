import type { Metadata } from "next";
import { ActionButton } from "@/components/ui/action-form";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { requireAccess } from "@/lib/auth";
import { listIpRules } from "@/lib/risk";
import { removeIpRuleAction } from "../actions";
import { RiskNav } from "../risk-nav";
import { IpRuleForm } from "./ip-rule-form";

export const metadata: Metadata = { title: "IP lists" };

export default async function IpRulesPage() {
  await requireAccess("risk");
  const rules = await listIpRules();
  return (
    <>
      <PageHeader title="Sign-in risk" description="Addresses and ranges to refuse or to trust more. A block applies to the next attempt on every instance." />
      <RiskNav current="/admin/risk/ip-rules" />
      <div className="space-y-6">
        <Card title="Add a rule">
          <IpRuleForm />
        </Card>
        <Card title="Rules in force">
          {rules.length === 0 ? (
            <p className="text-sm text-slate-500">No rules.</p>
          ) : (
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm">
                <thead className="text-xs uppercase tracking-wide text-slate-500">
                  <tr><th className="py-2 pr-4 font-medium">Range</th><th className="py-2 pr-4 font-medium">List</th><th className="py-2 pr-4 font-medium">Reason</th><th className="py-2 pr-4 font-medium">Added</th><th className="py-2 pr-4 font-medium">Expires</th><th /></tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {rules.map((r) => (
                    <tr key={r.id} data-testid="ip-rule-row">
                      <td className="py-2 pr-4 font-mono text-xs">{r.cidr}</td>
                      <td className="py-2 pr-4"><Badge tone={r.kind === "block" ? "red" : "green"}>{r.kind}</Badge></td>
                      <td className="py-2 pr-4">{r.note}</td>
                      <td className="py-2 pr-4"><LocalTime at={r.createdAt} /></td>
                      <td className="py-2 pr-4">{r.expiresAt ? <LocalTime at={r.expiresAt} /> : "Never"}</td>
                      <td className="py-2 text-right"><ActionButton action={removeIpRuleAction} fields={{ id: r.id }} label="Remove" variant="danger" confirm={`Remove the rule for ${r.cidr}?`} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      </div>
    </>
  );
}
