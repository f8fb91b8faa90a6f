import type { NextRequest } from "next/server";
import { z } from "zod";
import { auditFiltersSchema, EXPORT_FORMATS, exportAuditEvents } from "@/lib/audit";
import { problem, routeCaller } from "@/lib/auth";
import { requestContext } from "@/lib/http/request-context";

const querySchema = auditFiltersSchema.extend({ format: z.enum(EXPORT_FORMATS) });

/** GET /api/v1/audit/export?format=csv|jsonl&<search filters>: a streamed export; its signed manifest follows at /api/v1/audit/exports/<id>/manifest. */
export async function GET(request: NextRequest) {
  const caller = await routeCaller({ section: "audit", action: "view" });
  if (caller instanceof Response) return caller;
  const raw = Object.fromEntries(request.nextUrl.searchParams);
  const parsed = querySchema.safeParse(raw);
  if (!parsed.success) return problem(400, "invalid_request", z.prettifyError(parsed.error));
  const { format, ...filters } = parsed.data;
  const { id, stream, filename } = await exportAuditEvents({
    actor: { type: "user", id: caller.id, label: caller.email },
    client: await requestContext(),
    filters,
    format,
  });
  return new Response(stream, {
    headers: {
      "Content-Type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "Content-Disposition": `attachment; filename="${filename}"`,
      "Cache-Control": "no-store",
      "X-Gatehouse-Export-Id": id,
      "X-Gatehouse-Manifest": `/api/v1/audit/exports/${id}/manifest`,
    },
  });
}
