// `npm run worker`: the incident worker alone (detection and playbook runs), for deployments that
// keep it apart from the web instances (set GATEHOUSE_INCIDENT_WORKER=off on those). Stops on
// SIGTERM or SIGINT; a run it was in the middle of is finished by the next worker (the queue retries it).
import { withDatabase } from "./with-database";
import { logFilePath, teeOutputToLogFile } from "../lib/log/file";

const logFile = logFilePath("worker");
if (logFile) teeOutputToLogFile(logFile);

await withDatabase(async () => {
  process.env.GATEHOUSE_INCIDENT_WORKER = "on";
  const { startIncidentEngine, stopIncidentEngine } = await import("../lib/incidents/engine");
  await startIncidentEngine();
  console.log("Incident worker running");
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await stopIncidentEngine();
});
