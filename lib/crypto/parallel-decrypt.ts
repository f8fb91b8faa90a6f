import "server-only";
import type { Worker } from "node:worker_threads";
import { cannotLoad, startSourceWorker } from "../util/source-worker";
import { keyRing } from "./keys";
import { openSealedColumns, type DecryptRequest, type SealedColumn } from "./open-columns";

// Decrypting is most of an audit export's CPU (two AES-GCM openings per row, each a new cipher
// context in OpenSSL): a worker thread opens one batch while this thread reads and encodes the
// others, so an export uses a second core (bench/README.md). One worker per process, started on
// first use; if it cannot start (the source is not where the server runs from), values are
// opened on this thread as before.

type Waiting = { resolve: (columns: (string | null)[][]) => void; reject: (error: Error) => void };

let worker: Worker | null = null;
let unavailable = false;
let nextId = 0;
const waiting = new Map<number, Waiting>();

function startWorker(): Worker | null {
  if (worker || unavailable) return worker;
  try {
    // The keys come with each batch (see startSourceWorker: no environment).
    const started = startSourceWorker("lib/crypto/decrypt-worker.ts");
    started.unref();
    started.on("message", ({ id, columns }: { id: number; columns: (string | null)[][] }) => {
      waiting.get(id)?.resolve(columns);
      waiting.delete(id);
    });
    started.on("error", (error) => stopWorker(started, error));
    started.on("exit", (code) => stopWorker(started, new Error(`the decryption worker exited (${code})`)));
    worker = started;
  } catch (error) {
    console.error("decryption worker:", error instanceof Error ? error.message : error);
    unavailable = true;
  }
  return worker;
}

function stopWorker(stopped: Worker, error: Error) {
  // A late event from a worker already replaced concerns nothing pending now.
  if (worker !== stopped) return;
  console.error("decryption worker:", error.message);
  // A worker that failed to load will not load next time either: open values here from now on.
  if (cannotLoad(error)) unavailable = true;
  worker = null;
  for (const pending of waiting.values()) pending.reject(error);
  waiting.clear();
}

/** Each column decrypted under its context (null stays null), on the worker thread when there is one. */
export async function decryptInWorker(columns: SealedColumn[]): Promise<(string | null)[][]> {
  // Each key copied into a buffer of its own: a Buffer may be a slice of Node's shared pool, and
  // posting it would copy the whole pool block, other secrets included.
  const keys = [...keyRing().encryption.byId].map(([id, key]): [string, Uint8Array] => [id, new Uint8Array(key)]);
  const thread = startWorker();
  if (!thread) return openSealedColumns({ columns, keys });
  const id = nextId++;
  const request: DecryptRequest = { id, columns, keys };
  const opened = new Promise<(string | null)[][]>((resolve, reject) => waiting.set(id, { resolve, reject }));
  thread.ref();
  thread.postMessage(request);
  try {
    return await opened;
  } catch {
    // The worker died with this batch: open it here rather than fail the export.
    return openSealedColumns({ columns, keys });
  } finally {
    if (waiting.size === 0) worker?.unref();
  }
}
