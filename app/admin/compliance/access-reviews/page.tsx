import type { Metadata } from "next";
import Link from "next/link";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { ActionButton } from "@/components/ui/action-form";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { canAccessAfterStepUp, requireAccess } from "@/lib/auth";
import { ACCESS_REVIEW_INTERVAL_DAYS, listAccessReviews } from "@/lib/compliance";
import { startAccessReviewAction } from "../actions";
import { ComplianceNav } from "../compliance-nav";

export const metadata: Metadata = { title: "Access reviews" };

export default async function AccessReviewsPage() {
  const user = await requireAccess("compliance");
  const [reviews, canManage] = await Promise.all([listAccessReviews(), canAccessAfterStepUp(user, { section: "compliance", action: "manage" })]);
  const open = reviews.find((r) => r.open);

  return (
    <>
      <PageHeader
        title="Compliance"
        description={`User access reviews (SOC 2 CC6.2, CC6.3): every account's roles and groups, confirmed or removed by a reviewer and signed off. One is due every ${ACCESS_REVIEW_INTERVAL_DAYS} days.`}
      />
      <ComplianceNav current="/admin/compliance/access-reviews" />
      <div className="space-y-6">
        <Card title="Open review">
          {open ? (
            <div className="flex flex-wrap items-center justify-between gap-3 text-sm" data-testid="open-review">
              <p>
                Started <LocalTime at={open.startedAt} />{open.startedBy && <> by {open.startedBy}</>}: {open.accounts - open.undecided} of {open.accounts} accounts decided.
              </p>
              <Link href={`/admin/compliance/access-reviews/${open.id}`} className="font-medium text-brand-700 hover:underline">
                {canManage ? "Continue the review" : "See the review"} →
              </Link>
            </div>
          ) : canManage ? (
            <div className="flex flex-wrap items-center justify-between gap-3">
              <p className="text-sm text-slate-600">
                A review takes every account as it stands now. Decide on each (keep, remove its roles and groups, or disable it); someone else decides on
                your own account. Removals are carried out on the user&apos;s page; the review is signed off when all is done.
              </p>
              <ActionButton action={startAccessReviewAction} label="Start a review" pendingLabel="Starting…" variant="primary" />
            </div>
          ) : (
            <p className="text-sm text-slate-600">No review is open. The access policies let you see reviews, not start them.</p>
          )}
        </Card>
        <Card title="Reviews" description="Newest first, with their decisions. A signed-off review's CSV reads the same at every download: its SHA-256 is the one recorded at sign-off.">
          {reviews.length === 0 ? (
            <p className="text-sm text-slate-500">No review yet.</p>
          ) : (
            <Table>
              <TableHead>
                <Th>Started</Th>
                <Th>State</Th>
                <Th className="text-right">Accounts</Th>
                <Th className="text-right">Keep</Th>
                <Th className="text-right">Remove roles</Th>
                <Th className="text-right">Disable</Th>
                <Th>SHA-256</Th>
                <Th className="text-right">File</Th>
              </TableHead>
              <TableBody>
                {reviews.map((r) => (
                  <tr key={r.id} data-testid="review-row">
                    <Td>
                      <Link href={`/admin/compliance/access-reviews/${r.id}`} className="text-brand-700 hover:underline"><LocalTime at={r.startedAt} /></Link>
                    </Td>
                    <Td>
                      {r.open ? <Badge tone="amber">Open: {r.undecided} undecided</Badge> : (
                        <span><Badge tone="green">Signed off</Badge> <span className="text-xs text-slate-500"><LocalTime at={r.completedAt} />{r.completedBy && <> by {r.completedBy}</>}</span></span>
                      )}
                    </Td>
                    <Td className="text-right tabular-nums">{r.accounts}</Td>
                    <Td className="text-right tabular-nums">{r.kept}</Td>
                    <Td className="text-right tabular-nums">{r.reduced}</Td>
                    <Td className="text-right tabular-nums">{r.disabled}</Td>
                    <Td className="font-mono text-xs">{r.digest ? `${r.digest.slice(0, 16)}…` : "—"}</Td>
                    <Td className="text-right">
                      <a href={`/api/v1/compliance/access-reviews/${r.id}`} className="text-brand-700 hover:underline" download>CSV</a>
                    </Td>
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
