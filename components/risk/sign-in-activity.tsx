import Link from "next/link";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import type { AttemptSummary } from "@/lib/risk";
import { DecisionBadge, OutcomeBadge, ScoreBadge } from "./score-badge";

type ActivityRow = AttemptSummary & { device: string | null };

/**
 * A user's sign-in attempts: the user sees place, device and result (and reports one); admins also
 * see the score and decision, linked to the attempt's factors.
 */
export function SignInActivityTable<Row extends ActivityRow>({ rows, forAdmin = false, action }: { rows: Row[]; forAdmin?: boolean; action?: (row: Row) => React.ReactNode }) {
  if (rows.length === 0) return <p className="text-sm text-slate-500">No sign-ins yet.</p>;
  return (
    <Table>
      <TableHead>
        <Th>When</Th>
        <Th>Where</Th>
        <Th>Device</Th>
        <Th>Result</Th>
        {forAdmin && <Th>Risk</Th>}
        {action && <Th />}
      </TableHead>
      <TableBody>
        {rows.map((a) => (
          <tr key={a.id} data-testid="activity-row">
            <Td className="whitespace-nowrap">
              {forAdmin ? <Link className="text-brand-700 hover:underline" href={`/admin/risk/attempts/${a.id}`}><LocalTime at={a.at} /></Link> : <LocalTime at={a.at} />}
            </Td>
            <Td>
              {a.place ?? "Unknown place"}
              <span className="block text-xs text-slate-500">{a.ip ?? "unknown IP"}</span>
            </Td>
            <Td>{a.device ?? "—"}</Td>
            <Td>
              <OutcomeBadge outcome={a.outcome} /> {a.method === "passkey" && <span className="text-xs text-slate-500">passkey</span>}
              {forAdmin && a.reportedAt && <span className="block text-xs text-red-700">Reported by the user</span>}
            </Td>
            {forAdmin && (
              <Td className="whitespace-nowrap">
                <ScoreBadge score={a.score} /> <DecisionBadge decision={a.decision} />
              </Td>
            )}
            {action && <Td className="text-right">{action(a)}</Td>}
          </tr>
        ))}
      </TableBody>
    </Table>
  );
}
