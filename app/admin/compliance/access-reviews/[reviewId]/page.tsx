import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { AccessDecisionForm } from "@/components/compliance/access-decision-form";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { ActionButton } from "@/components/ui/action-form";
import { MaybeLink } from "@/components/ui/maybe-link";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { canAccess, canAccessAfterStepUp, requireAccess } from "@/lib/auth";
import { ACCESS_DECISION_LABELS, ACCESS_DECISIONS, accessReviewDetail, REVIEW_ITEM_FILTERS, REVIEW_ITEMS_SHOWN, type ReviewItemFilter } from "@/lib/compliance";
import { searchTextParam } from "@/lib/util/query-string";
import { completeAccessReviewAction, decideAccessAction, keepSignInOnlyAction } from "../../actions";
import { ComplianceNav } from "../../compliance-nav";

export const metadata: Metadata = { title: "Access review" };

const FILTER_LABELS: Record<ReviewItemFilter, string> = { undecided: "Undecided", to_carry_out: "To carry out", decided: "Decided", all: "All" };
const query = z.object({ show: z.enum(REVIEW_ITEM_FILTERS).optional().catch(undefined), q: searchTextParam });
const DECISION_TONES = { keep: "green", reduce: "amber", disable: "red" } as const;
const OPTIONS = ACCESS_DECISIONS.map((value) => ({ value, label: ACCESS_DECISION_LABELS[value] }));

export default async function AccessReviewPage({ params, searchParams }: { params: Promise<{ reviewId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireAccess("compliance");
  const { reviewId } = await params;
  const { show, q } = query.parse(await searchParams);
  const id = z.uuid().safeParse(reviewId);
  const [detail, canManage, mayOpenUsers] = await Promise.all([
    id.success ? accessReviewDetail(id.data, show ?? "undecided", q ?? null) : null,
    canAccessAfterStepUp(user, { section: "compliance", action: "manage" }),
    canAccess(user, { section: "users", action: "view" }),
  ]);
  if (!detail) notFound();
  const { review, items, matching, toCarryOut } = detail;
  const filter = show ?? "undecided";
  const deciding = review.open && canManage;
  const href = (next: ReviewItemFilter) => `?${new URLSearchParams({ show: next, ...(q ? { q } : {}) })}`;

  return (
    <>
      <Link href="/admin/compliance/access-reviews" className="text-sm text-brand-700 hover:underline">← Access reviews</Link>
      <PageHeader
        title="Access review"
        description={<>Started <LocalTime at={review.startedAt} />{review.startedBy && <> by {review.startedBy}</>}, with every account as it stood then. Access granted since is the next review&apos;s.</>}
      />
      <ComplianceNav current="/admin/compliance/access-reviews" />
      <div className="space-y-6">
        <Card title={review.open ? "Progress" : "Signed off"}>
          <div className="flex flex-wrap items-start justify-between gap-4 text-sm">
            <div className="space-y-1" data-testid="review-progress">
              <p>
                {review.accounts - review.undecided} of {review.accounts} accounts decided: {review.kept} kept, {review.reduced} to lose their roles and groups, {review.disabled} to be disabled.
              </p>
              {review.open ? (
                <p className="text-slate-600">
                  {toCarryOut > 0 ? <>{toCarryOut} removal{toCarryOut === 1 ? "" : "s"} still to carry out on the user&apos;s page. </> : null}
                  It can be signed off when every account is decided and every removal is done.
                </p>
              ) : (
                <p className="text-slate-600">
                  Signed off <LocalTime at={review.completedAt} />{review.completedBy && <> by {review.completedBy}</>}. SHA-256 of its CSV:{" "}
                  <code className="break-all font-mono text-xs">{review.digest}</code>
                </p>
              )}
            </div>
            <div className="flex flex-wrap gap-2">
              <a href={`/api/v1/compliance/access-reviews/${review.id}`} className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm hover:bg-slate-50" download>
                Download CSV
              </a>
              {deciding && (
                <>
                  <ActionButton action={keepSignInOnlyAction} fields={{ reviewId: review.id }} label="Keep every sign-in-only account" pendingLabel="Keeping…" showSuccess
                    confirm="Keep every undecided account that holds no role but user and no group? Your own account stays for someone else." />
                  <ActionButton action={completeAccessReviewAction} fields={{ reviewId: review.id }} label="Sign off" pendingLabel="Signing off…" variant="primary" showSuccess
                    confirm="Sign this review off? Its decisions become final and its CSV's SHA-256 is recorded." />
                </>
              )}
            </div>
          </div>
        </Card>
        <Card title="Accounts">
          <nav aria-label="Show" className="mb-3 flex flex-wrap gap-2 text-sm">
            {REVIEW_ITEM_FILTERS.map((f) => (
              <Link key={f} href={href(f)} aria-current={f === filter ? "page" : undefined}
                className={`rounded-md px-3 py-1 ${f === filter ? "bg-brand-50 font-medium text-brand-700" : "text-slate-600 hover:bg-slate-50"}`}>
                {FILTER_LABELS[f]}
              </Link>
            ))}
            <form role="search" className="ml-auto flex gap-2">
              <input type="hidden" name="show" value={filter} />
              <input name="q" aria-label="Search accounts" defaultValue={q} placeholder="Email or name" className="rounded-md border border-slate-300 px-3 py-1 text-sm" />
              <button className="rounded-md border border-slate-300 bg-white px-3 py-1 text-sm hover:bg-slate-50">Search</button>
            </form>
          </nav>
          {items.length === 0 ? (
            <p className="text-sm text-slate-500">{filter === "undecided" && !q ? "Every account is decided." : "No account here."}</p>
          ) : (
            <>
              {matching > items.length && <p className="mb-2 text-xs text-slate-500">The first {REVIEW_ITEMS_SHOWN} of {matching}: search to narrow them.</p>}
              <Table>
                <TableHead>
                  <Th>Account</Th>
                  <Th>Access when the review began</Th>
                  <Th>Second factors</Th>
                  <Th>Last sign-in</Th>
                  <Th>Decision</Th>
                </TableHead>
                <TableBody>
                  {items.map((item) => (
                    <tr key={item.userId} data-testid="review-item" className="align-top">
                      <Td>
                        {item.exists ? <MaybeLink href={`/admin/users/${item.userId}`} open={mayOpenUsers}>{item.email}</MaybeLink> : <span>{item.email} <Badge>deleted</Badge></span>}
                        <div className="text-xs text-slate-500">{item.name}</div>
                      </Td>
                      <Td>
                        <div className="flex flex-wrap gap-1">
                          {item.disabled && <Badge tone="red">disabled</Badge>}
                          {item.roles.map((r) => <Badge key={r} tone={r === "user" ? "neutral" : "brand"}>{r}</Badge>)}
                          {item.groups.map((g) => <Badge key={g}>group: {g}</Badge>)}
                        </div>
                      </Td>
                      <Td className="text-xs">{item.secondFactors}</Td>
                      <Td className="text-xs"><LocalTime at={item.lastSignInAt} /></Td>
                      <Td>
                        {item.decision && (
                          <p className="mb-1 text-xs">
                            <Badge tone={DECISION_TONES[item.decision]}>{ACCESS_DECISION_LABELS[item.decision]}</Badge>
                            {item.note && <> “{item.note}”</>} <span className="text-slate-500">— {item.decidedBy}, <LocalTime at={item.decidedAt} /></span>
                          </p>
                        )}
                        {item.toCarryOut && (
                          <p className="mb-1 text-xs text-amber-800">
                            Not done yet: <MaybeLink href={`/admin/users/${item.userId}`} open={mayOpenUsers}>carry it out on the user&apos;s page</MaybeLink>
                          </p>
                        )}
                        {deciding && (item.userId === user.id ? (
                          <p className="text-xs text-slate-500">Someone else decides on your own account.</p>
                        ) : (
                          <AccessDecisionForm action={decideAccessAction} reviewId={review.id} userId={item.userId} email={item.email} decision={item.decision} note={item.note} options={OPTIONS} />
                        ))}
                      </Td>
                    </tr>
                  ))}
                </TableBody>
              </Table>
            </>
          )}
        </Card>
      </div>
    </>
  );
}
