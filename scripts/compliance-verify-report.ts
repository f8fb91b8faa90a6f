// `npm run compliance:verify-report -- <report.json|report.html>`: checks an auditor's report
// against the audit trail (its digest, its download event, every run's and exception's events).
// Exit code 0 when it holds, 1 when it does not.
import { readFileSync } from "node:fs";
import { withDatabase } from "./with-database";

const file = process.argv[2];
if (!file) {
  console.error("usage: npm run compliance:verify-report -- <report.json|report.html>");
  process.exit(2);
}

await withDatabase(async () => {
  const { verifyReportFile } = await import("../lib/compliance");
  const { SYSTEM_CONTEXT } = await import("../lib/audit");
  const result = await verifyReportFile(readFileSync(file, "utf8"), { ...SYSTEM_CONTEXT, actor: { type: "system", id: null, label: "compliance:verify-report" } });
  if (result.ok) {
    console.log(`Report OK: ${result.checked} results and audit events match the audit trail.`);
  } else {
    for (const problem of result.problems) console.error(`- ${problem}`);
    console.error(`Report does NOT verify (${result.problems.length} problem(s)).`);
    process.exitCode = 1;
  }
});
