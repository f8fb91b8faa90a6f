// The worker thread behind verify.ts's parallel walk: checks one range of the chain on a
// connection of its own, in the snapshot verify.ts exported (so every range sees the chain as it
// stood at one moment), and answers with the range's report. Loaded from source by tsx (as the
// server is), so it may import only modules that load outside Next.js.
import { parentPort } from "node:worker_threads";
import pg from "pg";
import { checkRange, RANGE_CONNECTION_NAME, type RangeReport, type RangeTask } from "./chain-range";

/** `environment`: the variables pg reads beside the URL, as the verifying process has them (chain-walk.ts). */
export type RangeJob = { connectionString: string; environment: Record<string, string>; snapshot: string; task: RangeTask };
export type RangeAnswer = { report: RangeReport } | { error: string };

// What pg_export_snapshot() returns, e.g. 00000003-0000001B-1: checked, since SET TRANSACTION SNAPSHOT takes no parameter.
const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+-[0-9]+$/i;

async function run({ connectionString, environment, snapshot, task }: RangeJob): Promise<RangeAnswer> {
  if (!SNAPSHOT_ID.test(snapshot)) return { error: "not a snapshot id" };
  // This thread started with no environment of its own (source-worker.ts).
  Object.assign(process.env, environment);
  // Like the pool's connections (lib/db/client.ts), a connection that does not come gives up; and
  // TCP keep-alive finds a peer gone silent, rather than the walk waiting on it for ever.
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 30_000, keepAlive: true, application_name: RANGE_CONNECTION_NAME });
  try {
    await client.connect();
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
    const { report } = await checkRange(client, task);
    return { report };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    // Ends the transaction too, also in the middle of a COPY the check stopped early.
    await client.end().catch(() => undefined);
  }
}

parentPort!.once("message", (job: RangeJob) => {
  void run(job).then((answer) => parentPort!.postMessage(answer));
});
