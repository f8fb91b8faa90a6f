import type { Metadata } from "next";
import { ActionButton } from "@/components/ui/action-form";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { requireAccess } from "@/lib/auth";
import { listIpRules } from "@/lib/risk";
import { searchTextParam } from "@/lib/util/query-string";
import { Button } from "@/components/ui/button";
import { removeIpRuleAction } from "../actions";
import { RiskNav } from "../risk-nav";
import { IpRuleForm } from "./ip-rule-form";

export const metadata: Metadata = { title: "IP lists" };

export default async function IpRulesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireAccess("risk");
  const q = searchTextParam.parse((await searchParams).q);
  const { rules, total } = await listIpRules(q);
  return (
    <>
      <PageHeader title="Sign-in risk" description="Addresses and ranges to refuse or to trust more. A block applies to the next attempt on every instance." />
      <RiskNav current="/admin/risk/ip-rules" />
      <div className="space-y-6">
        <Card title="Add a rule">
          <IpRuleForm />
        </Card>
        <Card
          title="Rules in force"
          description={total > rules.length ? `The newest ${rules.length} of ${total}${q ? " that match" : ""}: every one applies. Search to find the others.` : undefined}
        >
          <form role="search" className="mb-4 flex flex-wrap gap-2" action="/admin/risk/ip-rules">
            <label htmlFor="ip-rule-search" className="sr-only">Search rules</label>
            <input id="ip-rule-search" name="q" defaultValue={q} placeholder="A range or a reason" className="w-full max-w-sm rounded-md border border-slate-300 px-3 py-2 text-sm" />
            <Button type="submit" variant="secondary" size="sm">Search</Button>
          </form>
          {rules.length === 0 ? (
            <p className="text-sm text-slate-500">{q ? "No rule matches." : "No rules."}</p>
          ) : (
            <Table>
              <TableHead><Th>Range</Th><Th>List</Th><Th>Reason</Th><Th>Added</Th><Th>Expires</Th><Th /></TableHead>
              <TableBody>
                {rules.map((r) => (
                  <tr key={r.id} data-testid="ip-rule-row">
                    <Td className="font-mono text-xs">{r.cidr}</Td>
                    <Td><Badge tone={r.kind === "block" ? "red" : "green"}>{r.kind}</Badge></Td>
                    <Td>{r.note}</Td>
                    <Td><LocalTime at={r.createdAt} /></Td>
                    <Td>{r.expiresAt ? <LocalTime at={r.expiresAt} /> : "Never"}</Td>
                    <Td className="text-right"><ActionButton action={removeIpRuleAction} fields={{ id: r.id }} label="Remove" variant="danger" confirm={`Remove the rule for ${r.cidr}?`} /></Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
        </Card>
      </div>
    </>
  );
}
