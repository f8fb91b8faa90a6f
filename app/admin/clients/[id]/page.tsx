import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ActionButton } from "@/components/ui/action-form";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { requireAccess, userEmails } from "@/lib/auth";
import { listClientGrants, listClients } from "@/lib/oidc";
import { formatDateTime } from "@/lib/util/format";
import { revokeClientGrantsAction, revokeUserGrantAction } from "../actions";

export const metadata: Metadata = { title: "Client grants" };

const th = "py-2 pr-4 font-medium";

export default async function ClientGrantsPage({ params }: { params: Promise<{ id: string }> }) {
  await requireAccess("clients");
  const id = (await params).id.slice(0, 200);
  const [client] = await listClients(id);
  if (!client) notFound();
  const grants = await listClientGrants(client.id);
  const emails = await userEmails(grants.map((g) => g.userId));
  return (
    <>
      <PageHeader title={client.name} description={`The users who let ${client.name} act for them, with the scopes they granted. Revoking one ends its tokens at once.`} />
      <p className="mb-4 text-sm"><Link className="text-brand-700 hover:underline" href="/admin/clients">← All clients</Link></p>
      <Card
        title={`Active grants (${client.activeGrants})`}
        description={client.activeGrants > grants.length ? `The ${grants.length} most recent are listed.` : undefined}
        actions={grants.length > 0 ? <ActionButton action={revokeClientGrantsAction} fields={{ clientId: client.id }} label="Revoke all grants" variant="danger" confirm={`Revoke every grant and token of ${client.name}?`} /> : undefined}
      >
        {grants.length === 0 ? (
          <p className="text-sm text-slate-500">No user has granted this client access.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <thead className="text-xs uppercase tracking-wide text-slate-500"><tr><th className={th}>User</th><th className={th}>Scopes</th><th className={th}>Granted</th><th className={th}>Last changed</th><th /></tr></thead>
              <tbody className="divide-y divide-slate-100">
                {grants.map((g) => {
                  const email = emails.get(g.userId) ?? "(deleted user)";
                  return (
                    <tr key={g.userId} data-testid="grant-row">
                      <td className="py-2 pr-4"><Link className="text-brand-700 hover:underline" href={`/admin/users/${g.userId}`}>{email}</Link></td>
                      <td className="py-2 pr-4 font-mono text-xs">{g.scopes.join(" ")}</td>
                      <td className="py-2 pr-4">{formatDateTime(g.since)}</td>
                      <td className="py-2 pr-4">{formatDateTime(g.lastUpdated)}</td>
                      <td className="py-2 text-right"><ActionButton action={revokeUserGrantAction} fields={{ clientId: client.id, userId: g.userId }} label="Revoke" variant="danger" confirm={`Revoke ${email}'s grant to ${client.name}?`} /></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
