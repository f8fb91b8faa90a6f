// `npm run audit:verify`: walks the whole audit chain and its signed checkpoints.
// Exit code 0 when it holds, 1 when it breaks (naming the first bad sequence number).
import { withDatabase } from "./with-database";

await withDatabase(async () => {
  const { verifyChain, recordAuditEvent, SYSTEM_ACTOR } = await import("../lib/audit");
  const result = await verifyChain();
  await recordAuditEvent({
    type: "security", action: "audit.chain.verify", outcome: result.ok ? "success" : "failure", actor: SYSTEM_ACTOR,
    metadata: { via: "cli", eventsChecked: result.eventsChecked, firstBadSeq: result.firstBadSeq, problem: result.problem },
  });
  if (result.ok) {
    console.log(`Audit chain OK: ${result.eventsChecked} events (${result.firstSeq ?? "-"}..${result.lastSeq ?? "-"}), ${result.checkpointsChecked} signed checkpoints, ${result.durationMs} ms`);
  } else {
    console.error(`Audit chain BROKEN at sequence ${result.firstBadSeq}: ${result.problem} (${result.eventsChecked} events checked before it)`);
    process.exitCode = 1;
  }
});
