import type { Metadata } from "next";
import Link from "next/link";
import { z } from "zod";
import { Card } from "@/components/ui/card";
import { Badge } from "@/components/ui/badge";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { OutcomeBadge } from "@/components/audit-outcome";
import { PageHeader } from "@/components/shell/page-header";
import { auditFiltersSchema, auditSigningKeyIds, listRecentExports, parseSeq, searchAuditEvents } from "@/lib/audit";
import { requireAccess } from "@/lib/auth";
import { formatDateTime } from "@/lib/util/format";
import { AuditFiltersForm } from "./filters-form";
import { ActionButton } from "@/components/ui/action-form";
import { verifyChainAction } from "./actions";

export const metadata: Metadata = { title: "Audit" };

type Search = Record<string, string | string[] | undefined>;

export default async function AuditPage({ searchParams }: { searchParams: Promise<Search> }) {
  await requireAccess("audit");
  const raw = Object.fromEntries(Object.entries(await searchParams).filter((e): e is [string, string] => typeof e[1] === "string"));
  const { before, ...filterParams } = raw;
  const parsed = auditFiltersSchema.safeParse(filterParams);
  const cursor = parseSeq(before);
  const result = parsed.success ? await searchAuditEvents(parsed.data, cursor ?? undefined) : null;
  const errors = parsed.success ? {} : z.flattenError(parsed.error).fieldErrors;
  const query = new URLSearchParams(Object.entries(filterParams).filter(([, v]) => v !== ""));
  const exports = await listRecentExports();
  const signingKeys = auditSigningKeyIds();

  return (
    <>
      <PageHeader
        title="Audit trail"
        description="Every security-relevant event, append-only and hash-chained. Times are UTC."
        actions={<ActionButton action={verifyChainAction} label="Verify chain" pendingLabel="Verifying the whole chain…" size="md" showSuccess />}
      />
      <div className="space-y-6">
        <Card>
          <AuditFiltersForm values={filterParams} errors={errors} />
        </Card>
        <Card
          title="Events"
          description={result ? (cursor !== null ? "Older events" : "Newest first") : "Fix the filters above to search."}
          actions={
            result && (
              <div className="flex gap-2 text-sm">
                <a className="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50" href={`/api/v1/audit/export?format=csv&${query}`} download>
                  Export CSV
                </a>
                <a className="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50" href={`/api/v1/audit/export?format=jsonl&${query}`} download>
                  Export JSON Lines
                </a>
              </div>
            )
          }
        >
          {result && result.events.length === 0 && <p className="text-sm text-slate-500">No events match.</p>}
          {result && result.events.length > 0 && (
            <Table>
              <TableHead>
                <Th>#</Th>
                <Th>Time</Th>
                <Th>Event</Th>
                <Th>Outcome</Th>
                <Th>Actor</Th>
                <Th>Resource</Th>
                <Th>IP</Th>
              </TableHead>
              <TableBody>
                {result.events.map((e) => (
                  <tr key={e.seq} data-testid="audit-row">
                    <Td className="font-mono text-xs">
                      <Link href={`/admin/audit/${e.seq}`} className="text-brand-700 hover:underline">
                        {e.seq}
                      </Link>
                    </Td>
                    <Td className="whitespace-nowrap text-xs">{formatDateTime(new Date(e.at))}</Td>
                    <Td>
                      <span className="font-medium">{e.action}</span> <Badge>{e.type}</Badge>
                    </Td>
                    <Td>
                      <OutcomeBadge outcome={e.outcome} />
                    </Td>
                    <Td className="max-w-48 truncate">{e.actorLabel ?? e.actorId ?? e.actorType}</Td>
                    <Td className="max-w-40 truncate text-xs">{e.resourceType ? `${e.resourceType} ${e.resourceId ?? ""}` : "—"}</Td>
                    <Td className="font-mono text-xs">{e.ip ?? "—"}</Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
          {result?.nextBefore && (
            <nav aria-label="Pages" className="mt-4 flex justify-between text-sm">
              {cursor !== null ? <Link href={`/admin/audit?${query}`} className="text-brand-700 hover:underline">Newest</Link> : <span />}
              <Link href={`/admin/audit?${new URLSearchParams([...query, ["before", result.nextBefore]])}`} className="text-brand-700 hover:underline">
                Older events
              </Link>
            </nav>
          )}
        </Card>
        <Card title="Exports" description="An export's signed manifest is ready once its download has finished. Check a download offline with npm run audit:verify-export.">
          <p className="mb-3 text-sm">
            <a href="/api/v1/audit/public-key" className="font-medium text-brand-700 hover:underline">
              Download the public signing key
            </a>{" "}
            <span className="text-slate-500">
              (Ed25519, key <code>{signingKeys.current}</code>; keep your own copy, separate from the exports)
            </span>
          </p>
          {signingKeys.retired.length > 0 && (
            <p className="mb-3 text-sm text-slate-600">
              Retired keys, for exports signed before a rotation:{" "}
              {signingKeys.retired.map((id, i) => (
                <span key={id}>
                  {i > 0 && ", "}
                  <a href={`/api/v1/audit/public-key?keyId=${id}`} className="text-brand-700 hover:underline">
                    <code>{id}</code>
                  </a>
                </span>
              ))}
            </p>
          )}
          {exports.length === 0 ? (
            <p className="text-sm text-slate-500">No exports yet.</p>
          ) : (
            <ul className="divide-y divide-slate-100 text-sm">
              {exports.map((x) => (
                <li key={x.id} className="flex items-center justify-between py-2" data-testid="export-row">
                  <span>
                    {formatDateTime(x.createdAt)} · {x.format.toUpperCase()}
                    {x.manifest ? ` · ${x.manifest.rowCount} rows · key ${x.manifest.keyId}` : " · not finished"}
                  </span>
                  {x.manifest && (
                    <a href={`/api/v1/audit/exports/${x.id}/manifest`} className="text-brand-700 hover:underline" download>
                      Manifest
                    </a>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}
