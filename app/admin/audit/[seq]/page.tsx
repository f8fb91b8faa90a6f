import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { OutcomeBadge } from "@/components/audit-outcome";
import { PageHeader } from "@/components/shell/page-header";
import { checkAuditEvent, parseSeq } from "@/lib/audit";
import { requireAccess } from "@/lib/auth";
import { formatDateTime } from "@/lib/util/format";

export const metadata: Metadata = { title: "Audit event" };

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt className="text-slate-500">{label}</dt>
      <dd className="break-all">{children ?? "—"}</dd>
    </>
  );
}

export default async function AuditEventPage({ params }: { params: Promise<{ seq: string }> }) {
  await requireAccess("audit");
  const seq = parseSeq((await params).seq);
  if (seq === null) notFound();
  const checked = await checkAuditEvent(seq);
  if (!checked) notFound();
  const { event, hashHolds, linkHolds, previousPurged, nextLinkHolds, beyondHead } = checked;

  return (
    <>
      <Link href="/admin/audit" className="text-sm text-brand-700 hover:underline">
        ← Audit trail
      </Link>
      <PageHeader title={`Event ${event.seq}`} description={`${event.action} · ${formatDateTime(new Date(event.at))}`} />
      <div className="space-y-6">
        <Card title="What happened">
          <dl className="grid gap-2 text-sm sm:grid-cols-[160px_1fr]">
            <Row label="Type">{event.type}</Row>
            <Row label="Action">{event.action}</Row>
            <Row label="Outcome"><OutcomeBadge outcome={event.outcome} /></Row>
            <Row label="Actor">{[event.actorType, event.actorLabel, event.actorId].filter(Boolean).join(" · ")}</Row>
            <Row label="Resource">{event.resourceType ? `${event.resourceType} ${event.resourceId ?? ""}` : null}</Row>
            <Row label="IP address">{event.ip}</Row>
            <Row label="User agent">{event.userAgent}</Row>
            <Row label="Device">{event.deviceId}</Row>
            <Row label="Location">{event.location}</Row>
            <Row label="Risk score">{event.riskScore}</Row>
            <Row label="Event id"><span className="font-mono text-xs">{event.id}</span></Row>
          </dl>
          <h3 className="mt-4 text-sm font-medium">Details</h3>
          <pre className="mt-1 overflow-x-auto rounded bg-slate-50 p-3 text-xs">{JSON.stringify(event.metadata, null, 2)}</pre>
          {event.policyDecisions != null && <pre className="mt-2 overflow-x-auto rounded bg-slate-50 p-3 text-xs">{JSON.stringify(event.policyDecisions, null, 2)}</pre>}
        </Card>
        <Card title="Place in the chain" description="Each hash covers the event and the hash before it. For the whole chain and its signed checkpoints, use Verify chain.">
          <dl className="grid gap-2 text-sm sm:grid-cols-[160px_1fr]">
            <Row label="Sequence">{event.seq}</Row>
            <Row label="Previous hash"><span className="font-mono text-xs">{event.prevHash}</span></Row>
            <Row label="Hash"><span className="font-mono text-xs">{event.hash}</span></Row>
            <Row label="Own hash">{hashHolds ? <Badge tone="green">recomputes correctly</Badge> : <Badge tone="red">does not match: changed after writing</Badge>}</Row>
            <Row label="Link to previous">
              {!linkHolds ? <Badge tone="red">broken</Badge> : previousPurged ? <Badge tone="amber">previous event purged; links to its signed checkpoint</Badge> : <Badge tone="green">links correctly</Badge>}
            </Row>
            <Row label="Link from next">
              {nextLinkHolds === null ? <Badge tone="neutral">newest event</Badge> : nextLinkHolds ? <Badge tone="green">links correctly</Badge> : <Badge tone="red">broken or missing</Badge>}
            </Row>
            {beyondHead && <Row label="Chain head"><Badge tone="red">before this event: it was inserted outside the chain</Badge></Row>}
          </dl>
          <div className="mt-4 flex gap-4 text-sm">
            {seq !== BigInt(1) && <Link className="text-brand-700 hover:underline" href={`/admin/audit/${seq - BigInt(1)}`}>← Previous event</Link>}
            <Link className="text-brand-700 hover:underline" href={`/admin/audit/${seq + BigInt(1)}`}>Next event →</Link>
          </div>
        </Card>
      </div>
    </>
  );
}
