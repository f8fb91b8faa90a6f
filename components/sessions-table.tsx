import type { ActionState } from "@/lib/auth/action";
import { Badge } from "./ui/badge";
import { ActionButton } from "./ui/action-form";
import { LocalTime } from "./ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "./ui/table";

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
  askReason,
}: {
  sessions: SessionRow[];
  currentSessionId?: string;
  revokeAction: (prev: ActionState, formData: FormData) => Promise<ActionState>;
  extraFields?: Record<string, string>;
  /** Ask the one signing a session out why (an admin, for the audit trail). */
  askReason?: string;
}) {
  if (sessions.length === 0) return <p className="text-sm text-slate-500">No active sessions.</p>;
  return (
    <Table>
      <TableHead>
        <Th>Device</Th>
        <Th>IP address</Th>
        <Th>Signed in</Th>
        <Th>Last active</Th>
        <Th />
      </TableHead>
      <TableBody>
        {sessions.map((s) => (
          <tr key={s.id} data-testid="session-row">
            <Td className="max-w-xs truncate" title={s.userAgent ?? undefined}>
              {s.device?.label ?? s.userAgent ?? "Unknown"} {s.id === currentSessionId && <Badge tone="green">This session</Badge>}
              {s.authMethods?.length ? <span className="block text-xs text-slate-500">{s.authMethods.map((m) => m.replace("_", " ")).join(" + ")}</span> : null}
            </Td>
            <Td className="font-mono text-xs">{s.ipAddress ?? "—"}</Td>
            <Td><LocalTime at={s.createdAt} /></Td>
            <Td><LocalTime at={s.lastSeenAt} /></Td>
            <Td className="text-right">
              {s.id !== currentSessionId && (
                <ActionButton action={revokeAction} fields={{ ...extraFields, sessionId: s.id }} label="Sign out" variant="danger" askReason={askReason} />
              )}
            </Td>
          </tr>
        ))}
      </TableBody>
    </Table>
  );
}
