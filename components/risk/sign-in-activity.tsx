import Link from "next/link";
import { LocalTime } from "@/components/ui/local-time";
import type { AttemptSummary } from "@/lib/risk";
import { DecisionBadge, OutcomeBadge, ScoreBadge } from "./score-badge";

type ActivityRow = AttemptSummary & { device: string | null };

/**
 * A user's sign-in attempts: the user sees place, device and result (and reports one); admins also
 * see the score and decision, linked to the attempt's factors.
 */
export function SignInActivityTable<Row extends ActivityRow>({ rows, forAdmin = false, action }: { rows: Row[]; forAdmin?: boolean; action?: (row: Row) => React.ReactNode }) {
  if (rows.length === 0) return <p className="text-sm text-slate-500">No sign-ins yet.</p>;
  const th = "py-2 pr-4 font-medium";
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <thead className="text-xs uppercase tracking-wide text-slate-500">
          <tr>
            <th className={th}>When</th>
            <th className={th}>Where</th>
            <th className={th}>Device</th>
            <th className={th}>Result</th>
            {forAdmin && <th className={th}>Risk</th>}
            {action && <th className="py-2" />}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((a) => (
            <tr key={a.id} data-testid="activity-row">
              <td className="py-2 pr-4 whitespace-nowrap">
                {forAdmin ? <Link className="text-brand-700 hover:underline" href={`/admin/risk/attempts/${a.id}`}><LocalTime at={a.at} /></Link> : <LocalTime at={a.at} />}
              </td>
              <td className="py-2 pr-4">
                {a.place ?? "Unknown place"}
                <span className="block text-xs text-slate-500">{a.ip ?? "unknown IP"}</span>
              </td>
              <td className="py-2 pr-4">{a.device ?? "—"}</td>
              <td className="py-2 pr-4">
                <OutcomeBadge outcome={a.outcome} /> {a.method === "passkey" && <span className="text-xs text-slate-500">passkey</span>}
                {forAdmin && a.reportedAt && <span className="block text-xs text-red-700">Reported by the user</span>}
              </td>
              {forAdmin && (
                <td className="py-2 pr-4 whitespace-nowrap">
                  <ScoreBadge score={a.score} /> <DecisionBadge decision={a.decision} />
                </td>
              )}
              {action && <td className="py-2 text-right">{action(a)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
