import type { NextRequest } from "next/server";
import { z } from "zod";
import { problem, routeCaller } from "@/lib/auth";
import { userContext } from "@/lib/audit";
import { auditReportDownload, buildReport, renderReportHtml, reportPeriodSchema } from "@/lib/compliance";
import { requestContext } from "@/lib/http/request-context";

const formatSchema = z.object({ format: z.enum(["html", "json"], "Choose html or json.") });

/** GET /api/v1/compliance/report?from=YYYY-MM-DD&to=YYYY-MM-DD&format=html|json: the auditor's report for those days (UTC), audited. */
export async function GET(request: NextRequest) {
  const caller = await routeCaller({ section: "compliance", action: "view" });
  if (caller instanceof Response) return caller;
  const query = Object.fromEntries(request.nextUrl.searchParams);
  const format = formatSchema.safeParse(query);
  const period = reportPeriodSchema.safeParse(query);
  if (!format.success || !period.success) return problem(400, "invalid_request", z.prettifyError((format.error ?? period.error)!));
  const report = await buildReport(period.data, caller.email);
  await auditReportDownload(report, format.data.format, userContext(caller, await requestContext()));
  const json = format.data.format === "json";
  const name = `gatehouse-soc2-report-${query.from}-to-${query.to}.${format.data.format}`;
  return new Response(json ? JSON.stringify(report, null, 2) : renderReportHtml(report), {
    headers: {
      "Content-Type": json ? "application/json; charset=utf-8" : "text/html; charset=utf-8",
      "Content-Disposition": `attachment; filename="${name}"`,
      "Cache-Control": "no-store",
      // Opened from disk it is the auditor's file; served here it must not run anything.
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
      "X-Gatehouse-Report-Digest": report.digest,
    },
  });
}
