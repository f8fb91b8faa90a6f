import type { Metadata } from "next";
import { ActionButton } from "@/components/ui/action-form";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { ChannelForm } from "@/components/incidents/channel-form";
import { LocalTime } from "@/components/ui/local-time";
import { canAccessAfterStepUp, requireAccess } from "@/lib/auth";
import { ADMINS_CHANNEL, DELIVERY_HEADER, SIGNATURE_HEADER, listChannels } from "@/lib/incidents";
import { mailConfigured } from "@/lib/mail";
import { createChannelAction, deleteChannelAction, testChannelAction } from "../actions";
import { IncidentsNav } from "../incidents-nav";

export const metadata: Metadata = { title: "Notification channels" };

export default async function ChannelsPage() {
  const user = await requireAccess("incidents");
  const [channels, canEdit, canTest] = await Promise.all([listChannels(), canAccessAfterStepUp(user, { section: "policies", action: "manage" }), canAccessAfterStepUp(user, { section: "incidents", action: "manage" })]);
  const smtp = mailConfigured();
  const ownAdmins = channels.some((c) => c.name === ADMINS_CHANNEL);
  return (
    <>
      <PageHeader title="Incidents" description="Where notify and escalate steps send." />
      <IncidentsNav current="/admin/incidents/channels" />
      <div className="space-y-6">
        <Card title="Channels">
          <div className="mb-2 flex items-start justify-between gap-2 text-sm text-slate-700" data-testid="builtin-channel">
            <p>
              <span className="font-medium">{ADMINS_CHANNEL}</span> <Badge>built in</Badge> every active admin, by email.{" "}
              {ownAdmins
                ? `Your own channel named ${ADMINS_CHANNEL} (below) takes its place.`
                : smtp ? "The built-in playbooks tell it." : <span className="text-amber-800">Email is not set up (GATEHOUSE_SMTP_URL), so the built-in playbooks skip telling it: nobody is mailed about incidents.</span>}
            </p>
            {canTest && smtp && !ownAdmins && <ActionButton action={testChannelAction} fields={{ name: ADMINS_CHANNEL }} label="Send a test" pendingLabel="Sending…" showSuccess />}
          </div>
          {channels.length === 0 ? <p className="text-sm text-slate-500">No channels of your own yet.</p> : (
            <ul className="divide-y divide-slate-100 text-sm">
              {channels.map((c) => (
                <li key={c.id} className="flex items-center justify-between py-2" data-testid="channel-row">
                  <span><span className="font-medium">{c.name}</span> <Badge>{c.kind}</Badge> <span className="font-mono text-xs text-slate-600">{c.target}</span> <span className="text-xs text-slate-500">since <LocalTime at={c.createdAt} /></span>{c.refusal && <span className="block text-xs text-red-700" data-testid="channel-refusal"><Badge tone="red">refused</Badge> {c.refusal}: sends fail until it is listed in GATEHOUSE_WEBHOOK_ALLOWED_HOSTS.</span>}</span>
                  <span className="flex shrink-0 items-start gap-2">
                    {canTest && <ActionButton action={testChannelAction} fields={{ name: c.name }} label="Send a test" pendingLabel="Sending…" showSuccess />}
                    {canEdit && <ActionButton action={deleteChannelAction} fields={{ id: c.id }} label="Delete" variant="danger" confirm={`Delete the channel ${c.name}? Playbooks that notify it will fail that step.`} />}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        {canEdit ? (
          <Card title="Add a channel" description={`Webhooks get a JSON POST with the header ${SIGNATURE_HEADER}: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">, and ${DELIVERY_HEADER}, the same on every retry; they go to public addresses only (an internal receiver must be listed in GATEHOUSE_WEBHOOK_ALLOWED_HOSTS). ${smtp ? "Email goes through the configured SMTP server." : "Email needs GATEHOUSE_SMTP_URL, which is not set: email steps will fail."}`}>
            <ChannelForm action={createChannelAction} />
          </Card>
        ) : <p className="text-sm text-slate-500">The policies do not let you change channels.</p>}
      </div>
    </>
  );
}
