import type { Metadata } from "next";
import Link from "next/link";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { SeverityBadge, StatusBadge } from "@/components/incidents/badges";
import { ResponseTimesChart } from "@/components/incidents/response-chart";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { requireAccess } from "@/lib/auth";
import { INCIDENT_TYPE_LABELS, SEVERITIES, STATUSES, STATUS_LABELS, incidentCounts, incidentFiltersSchema, INCIDENT_LIST_LIMIT, listIncidents, responseTimes, type IncidentType } from "@/lib/incidents";
import { IncidentsNav } from "./incidents-nav";

export const metadata: Metadata = { title: "Incidents" };

const minutes = (m: number | null) => (m === null ? "—" : m < 120 ? `${m} min` : `${Math.round((m / 60) * 10) / 10} h`);

export default async function IncidentsPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  await requireAccess("incidents");
  const filters = incidentFiltersSchema.parse(await searchParams);
  const status = filters.status ?? "active";
  const [incidents, counts, times] = await Promise.all([listIncidents({ ...filters, status }), incidentCounts(), responseTimes(30)]);
  return (
    <>
      <PageHeader title="Incidents" description="Alerts from detection rules, joined into incidents by user and IP; playbooks respond automatically." />
      <IncidentsNav current="/admin/incidents" />
      <div className="space-y-6">
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6" data-testid="incident-counts">
          {SEVERITIES.map((s) => (
            <Link key={s} href={`/admin/incidents?severity=${s}`} className="rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm hover:bg-slate-50">
              <p className="text-xs text-slate-500">Open · {s}</p>
              <p className="text-2xl font-semibold text-slate-900" data-testid={`open-${s}`}>{counts.bySeverity[s]}</p>
            </Link>
          ))}
          <div className="rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm">
            <p className="text-xs text-slate-500">Mean time to acknowledge</p>
            <p className="text-2xl font-semibold text-slate-900">{minutes(times.mttaMinutes)}</p>
          </div>
          <div className="rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm">
            <p className="text-xs text-slate-500">Mean time to resolve</p>
            <p className="text-2xl font-semibold text-slate-900">{minutes(times.mttrMinutes)}</p>
          </div>
        </div>
        <Card title="Response times" description="Last 30 days: incidents opened per day and how fast people acknowledged and resolved them.">
          <ResponseTimesChart points={times.points} />
        </Card>
        <Card title="Incidents">
          <form className="mb-4 flex flex-wrap items-end gap-3 text-sm" role="search">
            <label className="space-y-1">
              <span className="block font-medium text-slate-700">Status</span>
              <select name="status" defaultValue={status} className="rounded-md border border-slate-300 bg-white px-3 py-2">
                <option value="active">Not closed</option>
                {STATUSES.map((s) => <option key={s} value={s}>{STATUS_LABELS[s]} ({counts.byStatus[s]})</option>)}
              </select>
            </label>
            <label className="space-y-1">
              <span className="block font-medium text-slate-700">Severity</span>
              <select name="severity" defaultValue={filters.severity ?? ""} className="rounded-md border border-slate-300 bg-white px-3 py-2">
                <option value="">Any</option>
                {SEVERITIES.map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </label>
            <label className="space-y-1">
              <span className="block font-medium text-slate-700">Search</span>
              <input name="q" defaultValue={filters.q ?? ""} placeholder="INC-12, an IP, a title" className="rounded-md border border-slate-300 px-3 py-2" />
            </label>
            <button type="submit" className="rounded-md border border-slate-300 px-3 py-2 hover:bg-slate-50">Filter</button>
          </form>
          {incidents.length === 0 ? (
            <p className="text-sm text-slate-500">No incidents match.</p>
          ) : (
            <Table>
              <TableHead><Th>Incident</Th><Th>Type</Th><Th>Severity</Th><Th>Status</Th><Th>Alerts</Th><Th>Assignee</Th><Th>Last alert</Th></TableHead>
              <TableBody>
                {incidents.map((i) => (
                  <tr key={i.id} data-testid="incident-row">
                    <Td><Link className="font-medium text-brand-700 hover:underline" href={`/admin/incidents/${i.id}`}>INC-{i.number}</Link> <span className="text-slate-600">{i.title}</span></Td>
                    <Td>{INCIDENT_TYPE_LABELS[i.type as IncidentType] ?? i.type}</Td>
                    <Td><SeverityBadge severity={i.severity} /></Td>
                    <Td><StatusBadge status={i.status} /></Td>
                    <Td>{i.alertCount}</Td>
                    <Td>{i.assignee ?? "—"}</Td>
                    <Td><LocalTime at={i.lastAlertAt} /></Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
          {incidents.length === INCIDENT_LIST_LIMIT && (
            <p className="mt-3 text-sm text-slate-500" data-testid="list-cut">Showing the {INCIDENT_LIST_LIMIT} with the latest alerts; narrow the list with the filters to see older ones.</p>
          )}
        </Card>
      </div>
    </>
  );
}
