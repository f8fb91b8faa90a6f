import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ActionButton } from "@/components/ui/action-form";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { CopyButton } from "@/components/ui/copy-button";
import { LocalTime } from "@/components/ui/local-time";
import { PageHeader } from "@/components/shell/page-header";
import { requireAccess, userEmails } from "@/lib/auth";
import { listClientGrants, listClients } from "@/lib/oidc";
import { deleteClientAction, revokeClientGrantsAction, revokeUserGrantAction, setClientDisabledAction } from "../actions";
import { formValuesOf } from "../client-fields";
import { EditClientForm } from "./edit-client-form";
import { RotateSecretForm } from "./rotate-secret-form";

export const metadata: Metadata = { title: "Client" };


export default async function ClientPage({ params }: { params: Promise<{ id: string }> }) {
  await requireAccess("clients");
  const id = (await params).id;
  // Not an id any client can have (PostgreSQL refuses a NUL in text): no such client.
  if (id.length > 200 || id.includes("\0")) notFound();
  const [client] = await listClients(id);
  if (!client) notFound();
  const grants = await listClientGrants(client.id);
  const emails = await userEmails(grants.map((g) => g.userId));
  return (
    <>
      <p className="mb-4 text-sm"><Link className="text-brand-700 hover:underline" href="/admin/clients">← All clients</Link></p>
      <PageHeader
        title={client.name}
        description={`A ${client.type} OAuth client${client.source === "registration" ? " that registered itself (RFC 7591)" : ""}.`}
        actions={
          <div className="flex items-center gap-3">
            {client.disabledAt ? <Badge tone="red">Disabled</Badge> : <Badge tone="green">Active</Badge>}
            <ActionButton
              action={setClientDisabledAction}
              fields={{ clientId: client.id, disabled: String(!client.disabledAt) }}
              label={client.disabledAt ? "Enable" : "Disable"}
              variant={client.disabledAt ? "secondary" : "danger"}
              size="md"
              confirm={client.disabledAt ? undefined : `Disable ${client.name}? Its tokens are revoked.`}
            />
          </div>
        }
      />
      <div className="space-y-6">
        <Card title="Identity">
          <dl className="grid gap-2 text-sm sm:grid-cols-[10rem_1fr]">
            <dt className="text-slate-500">Client id</dt>
            <dd className="flex flex-wrap items-center gap-2"><code data-testid="client-id">{client.id}</code> <CopyButton value={client.id} what="client id" /></dd>
            <dt className="text-slate-500">Created</dt>
            <dd><LocalTime at={client.createdAt} /></dd>
          </dl>
        </Card>
        <Card title="Settings" description="Held to the same rules as a new client. A change applies to the next request the client makes; tokens it already holds keep what they were issued with.">
          <EditClientForm clientId={client.id} version={client.updatedAt.toISOString()} type={client.type} initial={formValuesOf(client)} />
        </Card>
        {client.type === "confidential" && (
          <Card title="Client secret" description="Only a hash of the secret is kept: a lost secret cannot be shown again, only replaced.">
            <div className="space-y-3">
              {client.previousSecretUntil && (
                <p className="text-sm text-amber-800" data-testid="secret-overlap">
                  The previous secret keeps working until <LocalTime at={client.previousSecretUntil} />.
                </p>
              )}
              <RotateSecretForm clientId={client.id} clientName={client.name} />
            </div>
          </Card>
        )}
        <Card
          title={`Active grants (${client.activeGrants})`}
          description={client.activeGrants > grants.length ? `The ${grants.length} most recent are listed.` : "The users who let this client act for them, with the scopes they granted. Revoking one ends its tokens at once."}
          actions={grants.length > 0 ? <ActionButton action={revokeClientGrantsAction} fields={{ clientId: client.id }} label="Revoke all grants" variant="danger" confirm={`Revoke every grant and token of ${client.name}?`} /> : undefined}
        >
          {grants.length === 0 ? (
            <p className="text-sm text-slate-500">No user has granted this client access.</p>
          ) : (
            <Table>
              <TableHead><Th>User</Th><Th>Scopes</Th><Th>Granted</Th><Th>Last changed</Th><Th /></TableHead>
              <TableBody>
                {grants.map((g) => {
                  const email = emails.get(g.userId) ?? "(deleted user)";
                  return (
                    <tr key={g.userId} data-testid="grant-row">
                      <Td><Link className="text-brand-700 hover:underline" href={`/admin/users/${g.userId}`}>{email}</Link></Td>
                      <Td className="font-mono text-xs">{g.scopes.join(" ")}</Td>
                      <Td><LocalTime at={g.since} /></Td>
                      <Td><LocalTime at={g.lastUpdated} /></Td>
                      <Td className="text-right"><ActionButton action={revokeUserGrantAction} fields={{ clientId: client.id, userId: g.userId }} label="Revoke" variant="danger" confirm={`Revoke ${email}'s grant to ${client.name}?`} /></Td>
                    </tr>
                  );
                })}
              </TableBody>
            </Table>
          )}
        </Card>
        <Card title="Delete client" description="Its grants and tokens are revoked and it can no longer sign users in or get tokens. This cannot be undone: to stop a client for now, disable it.">
          <ActionButton action={deleteClientAction} fields={{ clientId: client.id }} label="Delete client" variant="danger" size="md" confirm={`Delete ${client.name} for good? Its grants and tokens are revoked.`} />
        </Card>
      </div>
    </>
  );
}
