import type { Metadata } from "next";
import Link from "next/link";
import { ActionButton } from "@/components/ui/action-form";
import { Badge } from "@/components/ui/badge";
import { buttonClass } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { requireAccess } from "@/lib/auth";
import { issuer, listClients } from "@/lib/oidc";
import { LocalTime } from "@/components/ui/local-time";
import { revokeClientGrantsAction, setClientDisabledAction } from "./actions";
import { CreateClientForm } from "./create-client-form";
import { RegistrationTokenButton } from "./registration-token";

export const metadata: Metadata = { title: "Clients" };

export default async function ClientsPage() {
  await requireAccess("clients");
  const clients = await listClients();
  const base = issuer();
  return (
    <>
      <PageHeader title="OAuth clients" description={`Applications that sign users in or call APIs through Gatehouse. Discovery: ${base}/.well-known/openid-configuration`} />
      <div className="space-y-6">
        <Card title="Clients">
          {clients.length === 0 ? (
            <p className="text-sm text-slate-500">No clients yet.</p>
          ) : (
            <ul className="divide-y divide-slate-100">
              {clients.map((c) => (
                <li key={c.id} data-testid="client-row" className="flex flex-wrap items-start justify-between gap-3 py-3 text-sm">
                  <div className="space-y-0.5">
                    <p className="font-medium text-slate-900">
                      {c.name} <Badge tone="neutral">{c.type}</Badge> {c.requireDpop && <Badge tone="brand">DPoP</Badge>} {c.certificateBound && <Badge tone="brand">mTLS</Badge>}{" "}
                      {c.disabledAt ? <Badge tone="red">Disabled</Badge> : <Badge tone="green">Active</Badge>} {c.source === "registration" && <Badge tone="amber">Registered</Badge>}
                    </p>
                    <p className="font-mono text-xs text-slate-600">{c.id}</p>
                    <p className="text-xs text-slate-500">
                      {c.grantTypes.join(", ")} · scopes {c.scopes.join(" ")} · <Link className="text-brand-700 hover:underline" href={`/admin/clients/${encodeURIComponent(c.id)}`}>{c.activeGrants} user grant{c.activeGrants === 1 ? "" : "s"}</Link> · created <LocalTime at={c.createdAt} />
                    </p>
                    {c.redirectUris.length > 0 && <p className="text-xs text-slate-500">Redirects: {c.redirectUris.join(", ")}</p>}
                  </div>
                  <div className="flex items-start gap-2">
                    <Link className={buttonClass("secondary", "sm")} href={`/admin/clients/${encodeURIComponent(c.id)}`} aria-label={`Manage ${c.name}`}>Manage</Link>
                    <ActionButton action={revokeClientGrantsAction} fields={{ clientId: c.id }} label="Revoke all grants" variant="danger" confirm={`Revoke every grant and token of ${c.name}?`} />
                    <ActionButton
                      action={setClientDisabledAction}
                      fields={{ clientId: c.id, disabled: String(!c.disabledAt) }}
                      label={c.disabledAt ? "Enable" : "Disable"}
                      variant={c.disabledAt ? "secondary" : "danger"}
                      confirm={c.disabledAt ? undefined : `Disable ${c.name}? Its tokens are revoked.`}
                    />
                  </div>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="New client">
          <CreateClientForm />
        </Card>
        <Card title="Dynamic registration" description="Clients may register themselves (RFC 7591) only with an initial access token issued here, one per client; API access is then granted here.">
          <RegistrationTokenButton />
        </Card>
      </div>
    </>
  );
}
