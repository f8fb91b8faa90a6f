import "server-only";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

/**
 * A worker thread running one of our TypeScript files (path from the project root), loaded
 * through tsx's API like server.ts, which tsx runs: the bundled server has no worker chunk of its
 * own, and tsx's --import hooks do not reach a worker's entry. No environment: what the worker
 * needs comes with its messages, so it gets only the secrets its caller chooses to send.
 * Throws if the thread cannot be created; a source that fails to load ends it with an error event
 * ("Cannot find module …").
 */
export function startSourceWorker(sourceFromRoot: string): Worker {
  const source = path.join(process.cwd(), sourceFromRoot);
  const bootstrap = `import("tsx/esm/api").then(({ tsImport }) => tsImport(${JSON.stringify(source)}, ${JSON.stringify(pathToFileURL(source).href)}));`;
  return new Worker(bootstrap, { eval: true, env: {} });
}

/** Whether a worker's error means its source cannot be loaded here (so trying again is pointless). */
export const cannotLoad = (error: Error) => error.message.includes("Cannot find module") || error.message.includes("ERR_MODULE_NOT_FOUND");
