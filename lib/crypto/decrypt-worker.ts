// The worker thread behind decryptInWorker (parallel-decrypt.ts): opens batches of sealed values
// with the keys each message brings, as decrypt() does, and answers with the plaintexts. Loaded
// from source by tsx (as the server is), so it may import only modules that load outside Next.js.
import { parentPort } from "node:worker_threads";
import { openSealedColumns, type DecryptRequest } from "./open-columns";

parentPort!.on("message", (request: DecryptRequest) => {
  parentPort!.postMessage({ id: request.id, columns: openSealedColumns(request) });
});
