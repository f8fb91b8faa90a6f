import "server-only";
import { createHash, randomUUID } from "node:crypto";
import { db, Prisma } from "../db/client";
import { keyRing, signDetached } from "../crypto";
import type { AuditActor, AuditEventInput } from "./events";
import { csvRows } from "../util/csv";
import { flatObjectSerializer } from "./hash";
import { manifestSigningInput, type ExportManifest } from "./manifest";
import { recordAuditEvent } from "./record";
import { appliedFilters, filterClause, revealEvents, type AuditFilters } from "./search";
import type { StoredEventText } from "./chain-range";
import { readChainHead, readRange } from "./store";

export const EXPORT_FORMATS = ["csv", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const BATCH = 5_000;
const COLUMNS = [
  "seq", "id", "at", "type", "action", "outcome", "actorType", "actorId", "actorLabel", "resourceType", "resourceId",
  "ip", "userAgent", "deviceId", "location", "riskScore", "policyDecisions", "metadata", "prevHash", "hash",
] as const;

export type ExportRow = StoredEventText & { ip: string | null; userAgent: string | null };

// Metadata and policy decisions are written out as stored (canonical JSON text), not re-serialised.
const jsonLine = flatObjectSerializer(COLUMNS, ["policyDecisions", "metadata"]);

export function encode(rows: ExportRow[], format: ExportFormat, withHeader: boolean): string {
  if (format === "jsonl") return rows.map((row) => `${jsonLine(row)}\n`).join("");
  const cells = rows.map((row) => COLUMNS.map((c) => row[c]));
  // csvRows escapes formulas: a cell such as =HYPERLINK(…) from a typed email must not run in a spreadsheet.
  return csvRows(withHeader ? [COLUMNS, ...cells] : cells);
}

/**
 * Streams matching events oldest first, pulling one batch at a time as the client reads (memory
 * stays flat). Events after the head at the start are left out, so the export is a consistent
 * snapshot. When the stream ends, the signed manifest is stored and the export is audited.
 */
export async function exportAuditEvents(params: { actor: AuditActor & { id: string }; client?: AuditEventInput["client"]; filters: AuditFilters; format: ExportFormat }) {
  const { actor, filters, format } = params;
  // Where the download went: every event of the export carries it (a bulk read of decrypted addresses).
  const client = params.client ?? null;
  // Signed as applied, not as sent: a manifest must not claim a filter the export ignored.
  const applied = appliedFilters(filters);
  const id = randomUUID();
  const createdAt = new Date();
  const head = await readChainHead();
  const upToHead = Prisma.sql`AND seq <= ${head.seq}`;
  const where = Prisma.sql`${await filterClause(filters, upToHead)} ${upToHead}`;
  await db().auditExport.create({ data: { id, actorId: actor.id, format, filters: applied, createdAt } });
  // In the chain before the first row leaves: an export cut short by a crash is on the record too.
  const chainHead = { seq: head.seq.toString(), hash: head.hash };
  await recordAuditEvent({ type: "export", action: "audit.export.start", outcome: "success", actor, client, resource: { type: "audit_export", id }, metadata: { format, filters: applied, chainHead } });

  const digest = createHash("sha256");
  const encoder = new TextEncoder();
  let rowCount = 0;
  // Batches move through three stages at once, and no further (memory stays flat): PostgreSQL
  // reads one, a worker thread decrypts the one before (revealEvents, started the moment its rows
  // arrive), and this thread encodes the one before that.
  type Batch = { rows: Promise<StoredEventText[]>; revealed: Promise<ExportRow[]> };
  const batchAfter = (previous: Batch | null): Batch => {
    const rows = previous === null
      ? readRange(BigInt(0), BATCH, where)
      : previous.rows.then((before) => (before.length > 0 ? readRange(BigInt(before.at(-1)!.seq), BATCH, where) : []));
    const revealed = rows.then((read) => revealEvents(read));
    // Awaited in turn by pull(), unless the stream ends or is cancelled first: a failure (of the
    // read or the decryption, which `revealed` carries both) is not left unhandled meanwhile.
    revealed.catch(() => undefined);
    return { rows, revealed };
  };
  let current = batchAfter(null);
  let following = batchAfter(current);
  let first: ExportManifest["first"] = null;
  let last: ExportManifest["last"] = null;

  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const rows = await current.revealed;
        // Cancelled while this batch was read: the cancellation is what gets audited.
        if (cancelled) return;
        if (rows.length === 0) {
          if (rowCount === 0 && format === "csv") emit(controller, csvRows([COLUMNS]));
          await finish();
          controller.close();
          return;
        }
        current = following;
        following = batchAfter(current);
        emit(controller, encode(rows, format, rowCount === 0));
        first ??= { seq: rows[0]!.seq, hash: rows[0]!.hash };
        last = { seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash };
        rowCount += rows.length;
      } catch (error) {
        controller.error(error);
        await recordFailure("error");
      }
    },
    // The caller went away (or stopped reading) part way: what it took is audited all the same.
    async cancel() {
      cancelled = true;
      await recordFailure("cancelled");
    },
  });

  function recordFailure(reason: "error" | "cancelled") {
    const metadata = { format, reason, rowsWritten: rowCount, filters: applied };
    return recordAuditEvent({ type: "export", action: "audit.export", outcome: "failure", actor, client, resource: { type: "audit_export", id }, metadata }).catch(() => {});
  }

  function emit(controller: ReadableStreamDefaultController<Uint8Array>, text: string) {
    const bytes = encoder.encode(text);
    digest.update(bytes);
    controller.enqueue(bytes);
  }

  async function finish() {
    const unsigned: ExportManifest = {
      version: 1, exportId: id, createdAt: createdAt.toISOString(), format, filters: applied,
      timeRange: { from: filters.from?.toISOString() ?? null, to: filters.to?.toISOString() ?? null },
      rowCount, first, last, chainHead, sha256: digest.digest("hex"), keyId: keyRing().signing.id, signature: "",
    };
    const manifest = { ...unsigned, signature: signDetached(manifestSigningInput(unsigned)).signature };
    await db().auditExport.update({ where: { id }, data: { manifest, completedAt: new Date() } });
    await recordAuditEvent({
      type: "export", action: "audit.export", outcome: "success", actor, client, resource: { type: "audit_export", id },
      metadata: { format, rowCount, filters: applied, firstSeq: first?.seq ?? null, lastSeq: last?.seq ?? null, sha256: manifest.sha256 },
    });
  }

  return { id, stream, filename: `gatehouse-audit-${createdAt.toISOString().slice(0, 19).replaceAll(":", "")}.${format}` };
}

export async function findExportManifest(id: string): Promise<ExportManifest | null> {
  const row = await db().auditExport.findUnique({ where: { id }, select: { manifest: true } });
  return (row?.manifest as ExportManifest | null) ?? null;
}

/** The newest exports; an unfinished one has no manifest yet. */
export async function listRecentExports(limit = 10) {
  const rows = await db().auditExport.findMany({ orderBy: { createdAt: "desc" }, take: limit, select: { id: true, createdAt: true, completedAt: true, format: true, actorId: true, manifest: true } });
  return rows.map((row) => ({ ...row, manifest: row.manifest as ExportManifest | null }));
}
