import type { ActionState } from "@/lib/auth/action";
import { Badge } from "./ui/badge";
import { ActionButton } from "./ui/action-form";
import { LocalTime } from "./ui/local-time";

export type SessionRow = {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  ipAddress: string | null;
  userAgent: string | null;
  device?: { label: string } | null;
  authMethods?: string[];
};

/** Active sessions with a sign-out button each; used on /account/security and by admins. */
export function SessionsTable({
  sessions,
  currentSessionId,
  revokeAction,
  extraFields,
}: {
  sessions: SessionRow[];
  currentSessionId?: string;
  revokeAction: (prev: ActionState, formData: FormData) => Promise<ActionState>;
  extraFields?: Record<string, string>;
}) {
  if (sessions.length === 0) return <p className="text-sm text-slate-500">No active sessions.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <thead className="text-xs uppercase tracking-wide text-slate-500">
          <tr>
            <th className="py-2 pr-4 font-medium">Device</th>
            <th className="py-2 pr-4 font-medium">IP address</th>
            <th className="py-2 pr-4 font-medium">Signed in</th>
            <th className="py-2 pr-4 font-medium">Last active</th>
            <th className="py-2" />
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {sessions.map((s) => (
            <tr key={s.id} data-testid="session-row">
              <td className="max-w-xs truncate py-2 pr-4" title={s.userAgent ?? undefined}>
                {s.device?.label ?? s.userAgent ?? "Unknown"} {s.id === currentSessionId && <Badge tone="green">This session</Badge>}
                {s.authMethods?.length ? <span className="block text-xs text-slate-500">{s.authMethods.map((m) => m.replace("_", " ")).join(" + ")}</span> : null}
              </td>
              <td className="py-2 pr-4 font-mono text-xs">{s.ipAddress ?? "—"}</td>
              <td className="py-2 pr-4"><LocalTime at={s.createdAt} /></td>
              <td className="py-2 pr-4"><LocalTime at={s.lastSeenAt} /></td>
              <td className="py-2 text-right">
                {s.id !== currentSessionId && (
                  <ActionButton action={revokeAction} fields={{ ...extraFields, sessionId: s.id }} label="Sign out" variant="danger" />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
