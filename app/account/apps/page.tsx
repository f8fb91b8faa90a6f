import type { Metadata } from "next";
import { ActionButton } from "@/components/ui/action-form";
import { Card } from "@/components/ui/card";
import { Notice } from "@/components/ui/notice";
import { PageHeader } from "@/components/shell/page-header";
import { scopeText } from "@/components/oidc/scope-text";
import { LocalTime } from "@/components/ui/local-time";
import { requireUser } from "@/lib/auth";
import { listConnectedApps } from "@/lib/oidc";
import { revokeAppAction } from "./actions";

export const metadata: Metadata = { title: "Connected apps" };

export default async function AppsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireUser();
  const [apps, { removed }] = await Promise.all([listConnectedApps(user.id), searchParams]);
  return (
    <>
      <PageHeader title="Connected apps" description="Applications you allowed to use your Gatehouse account." />
      {removed === "1" && (
        <Notice className="mb-6">
          Access removed: the app can no longer refresh its tokens or get new ones, and a self-contained (JWT) access token it still holds stops working when it expires.
        </Notice>
      )}
      <Card>
        {apps.length === 0 ? (
          <p className="text-sm text-slate-500">No connected apps.</p>
        ) : (
          <ul className="divide-y divide-slate-100">
            {apps.map((app) => (
              <li key={app.clientId} data-testid="app-row" className="flex items-center justify-between gap-3 py-3 text-sm">
                <div>
                  <p className="font-medium text-slate-900">{app.name}</p>
                  <ul className="mt-1 list-disc pl-5 text-xs text-slate-600" aria-label={`What ${app.name} may do`}>
                    {app.scopes.map((scope) => (
                      <li key={scope} title={scope}>{scopeText(scope)}</li>
                    ))}
                  </ul>
                  <p className="text-xs text-slate-500">
                    Allowed <LocalTime at={app.since} />
                    {!app.remembered && " · not remembered: you are asked again next time"}
                  </p>
                </div>
                <ActionButton action={revokeAppAction} fields={{ clientId: app.clientId }} label="Remove access" variant="danger" confirm={`Remove ${app.name}'s access?`} />
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
