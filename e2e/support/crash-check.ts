// For e2e/crash.spec.ts: opens the database a crashed server used (DATABASE_URL, or the embedded
// one in GATEHOUSE_DATA_DIR, with the server stopped), and prints as JSON which of the sign-in
// failures the server had acknowledged are in the audit trail, and whether the chain verifies.
// Run with: npx tsx --conditions=react-server e2e/support/crash-check.ts <emails.json>
import { readFileSync } from "node:fs";
import { withDatabase } from "../../scripts/with-database";

const emails = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as string[];

await withDatabase(async () => {
  const { db } = await import("../../lib/db/client");
  const { verifyChain } = await import("../../lib/audit");
  const found = await db().auditEvent.findMany({
    where: { action: "auth.sign_in", outcome: "failure", actorLabel: { in: emails } },
    select: { actorLabel: true },
  });
  const recorded = new Set(found.map((e) => e.actorLabel));
  const chain = await verifyChain();
  console.log(JSON.stringify({ missing: emails.filter((e) => !recorded.has(e)), chain: { ok: chain.ok, events: chain.eventsChecked, problem: chain.problem } }));
});
