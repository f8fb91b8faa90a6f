import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { DecisionBadge, OutcomeBadge, ScoreBadge } from "@/components/risk/score-badge";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { canAccess, canAccessAfterStepUp, findUser, requireAccess, sessionStatus } from "@/lib/auth";
import { MaybeLink } from "@/components/ui/maybe-link";
import { FACTOR_LABELS, findAttempt, placeTrustable } from "@/lib/risk";
import { ActionButton } from "@/components/ui/action-form";
import { trustAttemptPlaceAction } from "../../actions";

export const metadata: Metadata = { title: "Sign-in attempt" };

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-4 py-2 text-sm">
      <dt className="text-slate-500">{label}</dt>
      <dd className="col-span-2 text-slate-900">{children}</dd>
    </div>
  );
}

export default async function AttemptPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireAccess("risk");
  const [usersOpen, canManage] = await Promise.all([canAccess(user, { section: "users", action: "view" }), canAccessAfterStepUp(user, { section: "risk", action: "manage" })]);
  const id = z.uuid().safeParse((await params).id);
  const attempt = id.success ? await findAttempt(id.data) : null;
  if (!attempt) notFound();
  const session = attempt.sessionId ? await sessionStatus(attempt.sessionId) : null;
  // The account may have been deleted since: no link to a page that is not there.
  const account = attempt.userId ? await findUser(attempt.userId) : null;
  return (
    <>
      <PageHeader title="Sign-in attempt" description={<>{attempt.email} · <LocalTime at={attempt.at} /></>} actions={<Link className="text-sm text-brand-700 hover:underline" href="/admin/risk">← Risk overview</Link>} />
      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Assessment">
          <dl className="divide-y divide-slate-100">
            <Row label="Score"><ScoreBadge score={attempt.score} /></Row>
            <Row label="Decision"><DecisionBadge decision={attempt.decision} /></Row>
            <Row label="Outcome"><OutcomeBadge outcome={attempt.outcome} /> <span className="text-xs text-slate-500">({attempt.method})</span></Row>
            <Row label="Settings version">{attempt.settingsVersion ?? "—"}{attempt.settingsVersion === 0 && " (built-in defaults)"}</Row>
            <Row label="Assessed in">{attempt.assessMicros !== null ? `${(attempt.assessMicros / 1000).toFixed(2)} ms` : "—"}</Row>
            {attempt.reportedAt && <Row label="Reported by the user"><LocalTime at={attempt.reportedAt} /> (“this wasn’t me”)</Row>}
          </dl>
        </Card>
        <Card title="Where from">
          <dl className="divide-y divide-slate-100">
            <Row label="IP address"><span className="font-mono">{attempt.ip ?? "—"}</span></Row>
            <Row label="Place">{attempt.place ?? "Not located"}{attempt.latitude !== null && <span className="block text-xs text-slate-500">{attempt.latitude.toFixed(2)}, {attempt.longitude?.toFixed(2)}</span>}</Row>
            <Row label="Network">{attempt.network ?? "—"}</Row>
            <Row label="Device">{attempt.device ?? "Not recognised"}</Row>
            <Row label="User agent"><span className="break-all text-xs">{attempt.userAgent ?? "—"}</span></Row>
            <Row label="Account">{account ? <MaybeLink open={usersOpen} href={`/admin/users/${account.id}`}>{attempt.email}</MaybeLink> : `${attempt.email} (${attempt.userId ? "account deleted" : "no such account"})`}</Row>
            <Row label="Session">{session ? <>{session.stage}{session.endedAt && <>, ended <LocalTime at={session.endedAt} /> ({session.endReason})</>}</> : "None"}</Row>
          </dl>
          {account && canManage && placeTrustable({ ...attempt, factorCodes: attempt.factors.map((f) => f.code) }) && (
            <div className="mt-4 space-y-2 border-t border-slate-100 pt-4 text-sm text-slate-700" data-testid="trust-place">
              <p>
                Confirmed with {attempt.email} that this was them (a trip, a new office)? Count this place as theirs: its country, network and location join the
                account&apos;s history, so the next sign-in from here is not new or impossible travel. A lock from a blocked attempt is lifted on the user&apos;s page.
              </p>
              <ActionButton action={trustAttemptPlaceAction} fields={{ attemptId: attempt.id }} label="Trust this place for the user" variant="secondary" size="md" showSuccess confirm={`Trust this place for ${attempt.email}? Only if you confirmed it was them.`} />
            </div>
          )}
        </Card>
      </div>
      <div className="mt-6">
        <Card title="Factors" description="Each factor's contribution is its weight times its strength; the score is their sum, clamped to 0–1.">
          {attempt.factors.length === 0 ? (
            <p className="text-sm text-slate-500">No factor fired: nothing about this attempt differed from the account&apos;s history.</p>
          ) : (
            <Table>
              <TableHead><Th>Factor</Th><Th>Detail</Th><Th>Strength</Th><Th>Contribution</Th></TableHead>
              <TableBody>
                {attempt.factors.map((f) => (
                  <tr key={f.code} data-testid="factor-row">
                    <Td>{FACTOR_LABELS[f.code] ?? f.code}</Td>
                    <Td className="text-slate-600">{f.detail}</Td>
                    <Td>{f.strength}</Td>
                    <Td className="font-mono">{f.contribution > 0 ? "+" : ""}{f.contribution.toFixed(3)}</Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
        </Card>
      </div>
    </>
  );
}
