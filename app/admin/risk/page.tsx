import type { Metadata } from "next";
import Link from "next/link";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { DecisionBadge, OutcomeBadge, ScoreBadge } from "@/components/risk/score-badge";
import { RiskTimeline, ScoreDistribution } from "@/components/risk/risk-charts";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { canAccess, requireAccess, userEmails } from "@/lib/auth";
import { MaybeLink } from "@/components/ui/maybe-link";
import { DECISION_LABELS, DECISIONS, FACTOR_LABELS, RISK_RANGES, riskOverview, type RiskRange } from "@/lib/risk";
import { unreadableGeoDatabases } from "@/lib/geo";
import { RiskNav } from "./risk-nav";

export const metadata: Metadata = { title: "Risk" };

export default async function RiskPage({ searchParams }: { searchParams: Promise<{ range?: string }> }) {
  const user = await requireAccess("risk");
  const usersOpen = await canAccess(user, { section: "users", action: "view" });
  const requested = (await searchParams).range;
  const range: RiskRange = requested && Object.hasOwn(RISK_RANGES, requested) ? (requested as RiskRange) : "7d";
  const overview = await riskOverview(range);
  // Attempts keep the account's id after it is deleted: only accounts still there get a link.
  const stillThere = await userEmails(overview.riskiestUsers.map((u) => u.userId));
  const total = DECISIONS.reduce((sum, d) => sum + overview.decisions[d], 0);
  return (
    <>
      <PageHeader
        title="Sign-in risk"
        description="Every sign-in attempt is scored from its place, travel speed, device, network, hour and failure velocity."
        actions={
          <div className="flex gap-1 text-sm" role="group" aria-label="Period">
            {(Object.keys(RISK_RANGES) as RiskRange[]).map((r) => (
              <Link key={r} href={`/admin/risk?range=${r}`} aria-current={r === range ? "true" : undefined} className="rounded-md border border-slate-300 px-3 py-1.5 hover:bg-slate-50 aria-[current=true]:border-brand-600 aria-[current=true]:bg-brand-50">
                {r}
              </Link>
            ))}
          </div>
        }
      />
      <RiskNav current="/admin/risk" />
      {unreadableGeoDatabases().map(({ file, since }) => (
        <p key={file} role="alert" className="mb-4 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900">
          This instance cannot open the GeoIP database {file} (last tried <LocalTime at={since} />): impossible travel and new-country signals are off until it can. It tries again every five minutes.
        </p>
      ))}
      <div className="space-y-6">
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-5" data-testid="decision-counts">
          {DECISIONS.map((d) => (
            <div key={d} className="rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm">
              <p className="text-xs text-slate-500">{DECISION_LABELS[d]}</p>
              <p className="text-2xl font-semibold text-slate-900">{overview.decisions[d]}</p>
              <p className="text-xs text-slate-500">{total ? Math.round((overview.decisions[d] / total) * 100) : 0}%</p>
            </div>
          ))}
        </div>
        <div className="grid gap-6 lg:grid-cols-2">
          <Card title="Risk over time" description={`Attempts per ${RISK_RANGES[range].per}, with the highest and average score.`}>
            <RiskTimeline points={overview.timeline} bucketHours={RISK_RANGES[range].bucketHours} />
          </Card>
          <Card title="Score distribution" description="Assessed attempts per score band.">
            <ScoreDistribution bands={overview.distribution} />
          </Card>
        </div>

        <Card title="Riskiest attempts" description="Highest scores first; open one for its factors.">
          {overview.riskiestAttempts.length === 0 ? (
            <p className="text-sm text-slate-500">No attempt scored above zero in this period.</p>
          ) : (
            // Seven columns squeezed into a phone's width wrap a word per line: wider, it scrolls.
            <Table className="min-w-[48rem]">
              <TableHead><Th>When</Th><Th>Account</Th><Th>From</Th><Th>Score</Th><Th>Decision</Th><Th>Outcome</Th><Th>Top factor</Th></TableHead>
              <TableBody>
                {overview.riskiestAttempts.map((a) => (
                  <tr key={a.id} data-testid="risky-attempt">
                    <Td className="whitespace-nowrap"><Link className="text-brand-700 hover:underline" href={`/admin/risk/attempts/${a.id}`}><LocalTime at={a.at} /></Link></Td>
                    <Td>{a.email}</Td>
                    <Td>{a.place ?? "—"}<span className="block font-mono text-xs text-slate-500">{a.ip}</span></Td>
                    <Td><ScoreBadge score={a.score} /></Td>
                    <Td><DecisionBadge decision={a.decision} /></Td>
                    <Td><OutcomeBadge outcome={a.outcome} /></Td>
                    <Td className="text-xs text-slate-600">{a.factors[0] ? FACTOR_LABELS[a.factors[0].code] : "—"}</Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
        </Card>

        {/* Full width each: two side by side left the users' table clipped even at 1280 px. */}
        <Card title="Riskiest users" description="Accounts with the highest scores in this period. Risky attempts: those that scored 0.5 or more.">
          {overview.riskiestUsers.length === 0 ? <p className="text-sm text-slate-500">None in this period.</p> : (
            <Table>
              <TableHead><Th>User</Th><Th>Highest</Th><Th>Average</Th><Th>Attempts</Th><Th>Risky attempts</Th></TableHead>
              <TableBody>
                {overview.riskiestUsers.map((u) => (
                  <tr key={u.userId} data-testid="risky-user">
                    <Td>
                      {stillThere.has(u.userId) ? <MaybeLink open={usersOpen} href={`/admin/users/${u.userId}`}>{u.email}</MaybeLink> : <>{u.email} <span className="text-xs text-slate-500">(account deleted)</span></>}
                    </Td>
                    <Td><ScoreBadge score={u.maxScore} /></Td>
                    <Td>{u.avgScore.toFixed(2)}</Td>
                    <Td>{u.attempts}</Td>
                    <Td>{u.elevated}</Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
        </Card>
        <Card title="Riskiest IP addresses" description="Sources with the highest scores in this period, with their failed passwords and how many accounts they tried.">
          {overview.riskiestIps.length === 0 ? <p className="text-sm text-slate-500">None in this period.</p> : (
            <Table>
              <TableHead><Th>IP</Th><Th>Highest</Th><Th>Failures</Th><Th>Accounts</Th><Th>Attempts</Th></TableHead>
              <TableBody>
                {overview.riskiestIps.map((i) => (
                  <tr key={i.ip} data-testid="risky-ip">
                    <Td><span className="font-mono text-xs">{i.ip}</span><span className="block text-xs text-slate-500">{i.place ?? ""}</span></Td>
                    <Td><ScoreBadge score={i.maxScore} /></Td>
                    <Td>{i.failures}</Td>
                    <Td>{i.accounts}</Td>
                    <Td>{i.attempts}</Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
        </Card>
        <p className="text-xs text-slate-500">
          IP geolocation by <a className="underline" href="https://db-ip.com">DB-IP</a> (City Lite, CC BY 4.0) unless your administrator configured another database.
        </p>
      </div>
    </>
  );
}
