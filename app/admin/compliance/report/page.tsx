import type { Metadata } from "next";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { VerifyReportForm } from "@/components/compliance/verify-report-form";
import { requireAccess } from "@/lib/auth";
import { ComplianceNav } from "../compliance-nav";

export const metadata: Metadata = { title: "Auditor's report" };

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const input = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";

export default async function ReportPage() {
  await requireAccess("compliance");
  return (
    <>
      <PageHeader title="Compliance" description="A report for an auditor: per control, every test result in the period with its evidence hash, the exceptions, and the status at the end." />
      <ComplianceNav current="/admin/compliance/report" />
      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Download a report" description="Whole days in UTC, both included; at most two years. Each download is recorded in the audit trail with the report's digest.">
          <form method="get" action="/api/v1/compliance/report" className="space-y-3" aria-label="Download a report">
            <div className="grid grid-cols-2 gap-3">
              <div className="space-y-1">
                <label htmlFor="report-from" className="block text-sm font-medium text-slate-700">From</label>
                <input id="report-from" name="from" type="date" required defaultValue={day(-90)} className={input} />
              </div>
              <div className="space-y-1">
                <label htmlFor="report-to" className="block text-sm font-medium text-slate-700">To</label>
                <input id="report-to" name="to" type="date" required defaultValue={day(0)} className={input} />
              </div>
            </div>
            <div className="flex gap-2">
              <Button type="submit" name="format" value="html">Download HTML</Button>
              <Button type="submit" name="format" value="json" variant="secondary">Download JSON</Button>
            </div>
          </form>
        </Card>
        <Card
          title="User access review"
          description="Every account with its roles, status, second factors, password state, last sign-in and sessions in force, as CSV, for the periodic access review (CC6.2, CC6.3). Each download is recorded in the audit trail with the file's SHA-256, so the copy kept as evidence can be matched to it."
        >
          <form method="get" action="/api/v1/compliance/access-review" aria-label="Download the user access review">
            <Button type="submit">Download CSV</Button>
          </form>
        </Card>
        <Card title="Verify a report" description="Checks a downloaded report against the tamper-evident audit trail: its digest, its download event, and every run's and exception's audit event. The same check runs offline with npm run compliance:verify-report.">
          <VerifyReportForm />
        </Card>
      </div>
    </>
  );
}
