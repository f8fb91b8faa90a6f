import "server-only";
import type { ComplianceReport } from "./report";
import { STATUS_LABELS } from "./catalog";
import { escapeHtml } from "../util/html";

// The report as one self-contained HTML file an auditor can open, print or archive. Every value
// from the database is escaped; the page loads nothing and runs no script. The report's JSON rides
// along in a data block (never executed), so the HTML file itself can be verified.

const REPORT_DATA_ID = "gatehouse-compliance-report";

/** The report's JSON from a downloaded file: the JSON file itself, or the HTML file's data block. */
export function reportFromFile(text: string): { json: unknown; html: boolean } {
  const block = new RegExp(`<script type="application/json" id="${REPORT_DATA_ID}">([^<]*)</script>`).exec(text);
  try {
    return { json: JSON.parse(block ? block[1]! : text), html: !!block };
  } catch {
    return { json: null, html: !!block };
  }
}

// A value the report shows; an empty one as a dash.
const text = (value: unknown) => escapeHtml(value ?? "—");

const status = (s: string) => `<span class="status ${text(s)}">${text(STATUS_LABELS[s as keyof typeof STATUS_LABELS] ?? s)}</span>`;
const day = (iso: string) => iso.slice(0, 10);
const lastDay = (exclusiveEnd: string) => new Date(new Date(exclusiveEnd).getTime() - 1).toISOString().slice(0, 10);

function controlSection(control: ComplianceReport["controls"][number]): string {
  const mappings = Object.entries({ "ISO/IEC 27001": control.mappings.iso27001, "NIST SP 800-53": control.mappings.nist80053, "HIPAA": control.mappings.hipaa, "GDPR Art.": control.mappings.gdpr })
    .filter(([, ids]) => ids.length)
    .map(([framework, ids]) => `${text(framework)} ${ids.map(text).join(", ")}`)
    .join(" · ");
  const tests = control.tests
    .map((t) => {
      const rows = t.results
        .map((r) => `<tr><td>${text(r.at)}</td><td>${status(r.status)}</td><td>${text(r.summary)}</td><td class="hash">${text(r.evidenceSha256)}</td></tr>`)
        .join("");
      return `<h4>${text(t.title)} <small>(${text(t.check)}: ${t.passed} passed, ${t.failed} failed)</small></h4>
        ${rows ? `<table><thead><tr><th>Tested at (UTC)</th><th>Result</th><th>Finding</th><th>Evidence SHA-256</th></tr></thead><tbody>${rows}</tbody></table>` : "<p>Not tested in this period.</p>"}`;
    })
    .join("");
  // Reports made before exceptions kept their findings list the tests alone, as they were rendered.
  const exceptedFindings = (findings: { label: string }[] | undefined) => (findings?.length ? `: ${findings.map((f) => text(f.label)).join(", ")}` : "");
  // Reports made before exceptions named their tests have no such column: rendered as they were, so they still verify.
  const testsColumn = control.exceptions.some((e) => e.checks !== undefined);
  const exceptions = control.exceptions.length
    ? `<h4>Exceptions</h4><table><thead><tr><th>State</th><th>Justification</th>${testsColumn ? "<th>Tests excepted</th>" : ""}<th>Requested by</th><th>Approved by</th><th>Expires</th><th>Audit events</th></tr></thead><tbody>${control.exceptions
        .map((e) => `<tr><td>${text(e.state)}</td><td>${text(e.justification)}</td>${testsColumn ? `<td>${(e.checks ?? []).map((c) => text(c) + exceptedFindings(e.findings?.[c])).join("<br>") || "—"}</td>` : ""}<td>${text(e.requestedBy)}</td><td>${text(e.approvedBy)} ${e.approvedAt ? `(${text(e.approvedAt)})` : ""}</td><td>${text(e.expiresAt)}</td><td>${e.auditEvents.map((a) => `#${text(a.seq)} ${text(a.action)}`).join("<br>")}</td></tr>`)
        .join("")}</tbody></table>`
    : "";
  return `<section><h3>${text(control.id)} — ${text(control.title)} ${status(control.statusAtEnd)}</h3>
    <p class="meta">Owner: ${text(control.owner)}${mappings ? ` · ${mappings}` : ""}</p>${tests}${exceptions}</section>`;
}

export function renderReportHtml(report: ComplianceReport): string {
  const runs = report.runs
    .map((r) => `<tr><td>${text(r.startedAt)}</td><td>${text(r.trigger)}</td><td>${r.auditEvent ? `#${text(r.auditEvent.seq)}` : "—"}</td><td class="hash">${text(r.auditEvent?.hash)}</td></tr>`)
    .join("");
  const s = report.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse SOC 2 control report ${day(report.period.from)} to ${lastDay(report.period.to)}</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;color:#0f172a;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{font-size:1.5rem;margin:0}h3{margin:2rem 0 .25rem;font-size:1.1rem}h4{margin:1rem 0 .25rem;font-size:.95rem}small,.meta{color:#475569}
table{border-collapse:collapse;width:100%;font-size:12px;margin:.25rem 0}th,td{border:1px solid #e2e8f0;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f8fafc}.hash{font-family:ui-monospace,monospace;font-size:11px;word-break:break-all}
.status{border-radius:4px;padding:1px 6px;font-size:12px;font-weight:600}.pass{background:#dcfce7;color:#166534}.fail,.error{background:#fee2e2;color:#991b1b}
.excepted{background:#fef3c7;color:#92400e}.not_tested{background:#f1f5f9;color:#475569}section{break-inside:avoid-page}
</style></head><body>
<h1>SOC 2 control report</h1>
<p class="meta">Period ${day(report.period.from)} to ${lastDay(report.period.to)} (UTC) · generated ${text(report.generatedAt)} by ${text(report.generatedBy)}</p>
<p>At the end of the period: ${s.pass} passing, ${s.fail} failing, ${s.excepted} excepted, ${s.not_tested} not tested, of ${report.controls.length} controls.</p>
<p class="meta">To check this report against Gatehouse's tamper-evident audit trail: <code>npm run compliance:verify-report -- this-file.html</code>
(or verify it under Compliance in the console). Report digest (SHA-256): <span class="hash">${text(report.digest)}</span></p>
${report.controls.map(controlSection).join("")}
<h3>Test runs</h3>
${runs ? `<table><thead><tr><th>Started (UTC)</th><th>Trigger</th><th>Audit event</th><th>Event hash</th></tr></thead><tbody>${runs}</tbody></table>` : "<p>No test run in this period.</p>"}
<script type="application/json" id="${REPORT_DATA_ID}">${JSON.stringify(report).replace(/</g, "\\u003c")}</script>
</body></html>`;
}
