// `npm run audit:verify`: walks the whole audit chain and its signed checkpoints.
// Exit code 0 when it holds, 1 when it breaks (naming the first bad sequence number).
import { withDatabase } from "./with-database";

await withDatabase(async () => {
  const { verifyChainAndRecord, SYSTEM_CONTEXT } = await import("../lib/audit");
  const result = await verifyChainAndRecord("cli", SYSTEM_CONTEXT);
  if (result.ok) {
    console.log(`Audit chain OK: ${result.eventsChecked} events (${result.firstSeq ?? "-"}..${result.lastSeq ?? "-"}), ${result.checkpointsChecked} signed checkpoints, ${result.durationMs} ms`);
  } else {
    console.error(`Audit chain BROKEN at sequence ${result.firstBadSeq}: ${result.problem} (${result.eventsChecked} events checked before it)`);
    process.exitCode = 1;
  }
});
