import type { Metadata } from "next";
import Link from "next/link";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { SeverityBadge, StatusBadge } from "@/components/incidents/badges";
import { ResponseTimesChart } from "@/components/incidents/response-chart";
import { LocalTime } from "@/components/ui/local-time";
import { requireAccess } from "@/lib/auth";
import { INCIDENT_TYPE_LABELS, SEVERITIES, STATUSES, STATUS_LABELS, incidentCounts, incidentFiltersSchema, listIncidents, responseTimes, type IncidentType } from "@/lib/incidents";
import { IncidentsNav } from "./incidents-nav";

export const metadata: Metadata = { title: "Incidents" };

const th = "py-2 pr-4 font-medium";
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
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm">
                <thead className="text-xs uppercase tracking-wide text-slate-500">
                  <tr><th className={th}>Incident</th><th className={th}>Type</th><th className={th}>Severity</th><th className={th}>Status</th><th className={th}>Alerts</th><th className={th}>Assignee</th><th className={th}>Last alert</th></tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {incidents.map((i) => (
                    <tr key={i.id} data-testid="incident-row">
                      <td className="py-2 pr-4"><Link className="font-medium text-brand-700 hover:underline" href={`/admin/incidents/${i.id}`}>INC-{i.number}</Link> <span className="text-slate-600">{i.title}</span></td>
                      <td className="py-2 pr-4">{INCIDENT_TYPE_LABELS[i.type as IncidentType] ?? i.type}</td>
                      <td className="py-2 pr-4"><SeverityBadge severity={i.severity} /></td>
                      <td className="py-2 pr-4"><StatusBadge status={i.status} /></td>
                      <td className="py-2 pr-4">{i.alertCount}</td>
                      <td className="py-2 pr-4">{i.assignee ?? "—"}</td>
                      <td className="py-2 pr-4"><LocalTime at={i.lastAlertAt} /></td>
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
