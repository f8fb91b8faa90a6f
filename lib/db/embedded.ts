// Embedded PostgreSQL for running Gatehouse without a database server: PGlite (PostgreSQL compiled
// to WebAssembly, in this process, persisted to a folder) served over the PostgreSQL wire protocol
// so that `pg` / PrismaPg connect to it exactly as to a real server.
//
// ONE CONNECTION AT A TIME. PGlite is a single PostgreSQL backend: one session, one transaction,
// one unnamed prepared statement. pglite-socket's own server can accept several connections, but it
// interleaves their protocol messages one by one (so one client's Parse/Bind/Execute can land in the
// middle of another's, and an error in one makes the backend skip the other's messages until Sync);
// with its default of one connection it resets any second connection instead, even one that merely
// arrives before the previous connection's close has been processed. So we serve the socket
// ourselves with the library's per-connection protocol handler and a FIFO gate: one connection is
// served, later ones wait their turn (up to QUEUE_TIMEOUT_MS). Clients must therefore use a pool of
// ONE (`new PrismaPg({ connectionString, max: 1 })`): a second pooled connection from the same
// process would wait for the first, which that process never gives up while busy.
//
// No "server-only" import: the custom Node server and tsx CLI scripts use this file.
import { mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";

export interface EmbeddedPostgres {
  /** For `pg` / PrismaPg, e.g. postgresql://postgres@localhost/postgres?host=%2Fabs%2Fdata */
  connectionString: string;
  /** Stops serving, closes PGlite (flushing it to disk) and releases the data folder. */
  close(): Promise<void>;
}

/** The data folder is open in another process (or already in this one). */
export class EmbeddedDatabaseLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`the embedded database in ${dataDir} is in use by process ${pid} (a running Gatehouse server?)`);
    this.name = "EmbeddedDatabaseLockedError";
  }
}

const QUEUE_TIMEOUT_MS = 30_000;
// sockaddr_un.sun_path holds 108 bytes on Linux (104 on macOS), terminator included.
const MAX_SOCKET_PATH = 100;

/**
 * Opens (creating if needed) the PGlite database in `<dataDir>/pgdata` and serves it on the unix
 * socket `<dataDir>/.s.PGSQL.5432` (mode 0600, so other local users cannot connect), or on an
 * ephemeral 127.0.0.1 port if a unix socket cannot be used there (e.g. the path is too long).
 * A first start runs initdb, which takes a few seconds.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const releaseLock = acquireLock(dir);
  try {
    const db = new PGlite(path.join(dir, "pgdata"));
    await db.waitReady;
    const socketPath = path.join(dir, ".s.PGSQL.5432");
    let served: EmbeddedPostgres | undefined;
    if (Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH) {
      // We hold the lock, so a socket file left here is from a process that was killed.
      rmSync(socketPath, { force: true });
      served = await serve(db, { path: socketPath }).catch(() => undefined);
      if (served) chmodSync(socketPath, 0o600);
    }
    served ??= await serve(db, { host: "127.0.0.1", port: 0 });
    return {
      connectionString: served.connectionString,
      close: async () => {
        await served.close();
        releaseLock();
      },
    };
  } catch (err) {
    releaseLock();
    throw err;
  }
}

/** A throwaway in-memory database on an ephemeral loopback port (used to compute migrations). */
export async function startEphemeralPostgres(): Promise<EmbeddedPostgres> {
  const db = new PGlite();
  await db.waitReady;
  return serve(db, { host: "127.0.0.1", port: 0 });
}

// A pid file as the folder's lock: PGlite itself takes no lock, and two processes writing one
// data folder would corrupt it. A pid that no longer runs means a killed process: take over.
function acquireLock(dir: string): () => void {
  const lockPath = path.join(dir, "embedded-postgres.pid");
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 2) throw err;
      const pid = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
      if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) throw new EmbeddedDatabaseLockedError(dir, pid);
      rmSync(lockPath, { force: true });
    }
  }
  // If the process exits without close(), free the folder anyway (PGlite's data is durable).
  const onExit = () => rmSync(lockPath, { force: true });
  process.on("exit", onExit);
  return () => {
    process.off("exit", onExit);
    rmSync(lockPath, { force: true });
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function serve(db: PGlite, where: { path: string } | { host: string; port: number }): Promise<EmbeddedPostgres> {
  const queue = new SingleSessionQueue(db);
  const waiting: net.Socket[] = [];
  let active: net.Socket | null = null;
  let activeDone: Promise<void> = Promise.resolve();
  const timers = new Map<net.Socket, NodeJS.Timeout>();
  const unqueue = (socket: net.Socket) => {
    const i = waiting.indexOf(socket);
    if (i >= 0) waiting.splice(i, 1);
  };

  // Hands the next waiting connection to the protocol handler once the previous one is cleaned up.
  const next = () => {
    if (active) return;
    const socket = waiting.shift();
    if (!socket) return;
    socket.removeAllListeners("close");
    socket.removeAllListeners("error");
    clearTimeout(timers.get(socket));
    timers.delete(socket);
    active = socket;
    const handler = new PGLiteSocketHandler({
      queryQueue: queue as unknown as PGLiteSocketHandlerOptions["queryQueue"],
      closeOnDetach: true,
    });
    activeDone = new Promise((resolve) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        // Roll back whatever the departed client left open before the next one gets the session.
        void queue
          .reset()
          .catch(() => undefined)
          .then(() => {
            active = null;
            resolve();
            next();
          });
      };
      handler.addEventListener("close", finish);
      handler.addEventListener("error", finish);
    });
    handler.attach(socket).catch(() => socket.destroy());
  };

  const server = net.createServer((socket) => {
    // Until its turn the socket stays paused; PostgreSQL's startup message waits in its buffer.
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timers.get(socket));
      timers.delete(socket);
      unqueue(socket);
    });
    timers.set(
      socket,
      setTimeout(() => {
        unqueue(socket);
        socket.end(errorResponse("53300", "sorry, too many clients already (embedded PostgreSQL serves one connection at a time)"));
      }, QUEUE_TIMEOUT_MS).unref(),
    );
    waiting.push(socket);
    next();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const ready = () => {
      server.off("error", reject);
      resolve();
    };
    if ("path" in where) server.listen(where.path, ready);
    else server.listen(where.port, where.host, ready);
  });

  let connectionString: string;
  if ("path" in where) {
    // pg connects to `${host}/.s.PGSQL.${port}` when host is a directory (port defaults to 5432).
    connectionString = `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(path.dirname(where.path))}`;
  } else {
    const { port } = server.address() as net.AddressInfo;
    connectionString = `postgresql://postgres@${where.host}:${port}/postgres`;
  }

  let closing: Promise<void> | undefined;
  return {
    connectionString,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve())); // unlinks the socket file
        for (const socket of waiting.splice(0)) socket.destroy();
        active?.destroy();
        await activeDone;
        await closed;
        await db.close();
      })()),
  };
}

// Stands in for pglite-socket's QueryQueueManager (whose interface PGLiteSocketHandler calls).
// With one connection at a time there is nothing to interleave: run each message exclusively.
class SingleSessionQueue {
  private last: Promise<unknown> = Promise.resolve();
  private resetting: Promise<void> | undefined;
  constructor(private readonly db: PGlite) {}

  enqueue(_handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    const run = this.db.runExclusive(async () => {
      let bytes = 0;
      await this.db.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          onData(data);
        },
      });
      return bytes;
    });
    this.last = run.catch(() => undefined);
    return run;
  }

  getQueueLength(): number {
    return 0;
  }

  clearQueueForHandler(): void {}

  clearTransactionIfNeeded(): Promise<void> {
    return this.reset();
  }

  /** Ends whatever a departed client left behind: a half-sent extended query, an open transaction. */
  reset(): Promise<void> {
    // Called twice per departure (by the handler and by the gate): share one run.
    return (this.resetting ??= this.doReset().finally(() => (this.resetting = undefined)));
  }

  private async doReset(): Promise<void> {
    await this.last;
    if (this.db.closed) return;
    // Sync ends an unfinished extended-protocol exchange (and its error state, which would make
    // the backend ignore the ROLLBACK).
    await this.db.runExclusive(() => this.db.execProtocolRawStream(SYNC, { onRawData: () => undefined }));
    if (this.db.isInTransaction()) await this.db.exec("ROLLBACK");
    // The next client starts with no prepared statements, as on a new connection to a server (it
    // would prepare its named statements again, and the backend would refuse them as existing).
    await this.db.exec("DEALLOCATE ALL");
  }
}

const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

// A PostgreSQL ErrorResponse message, so clients report a proper error instead of a reset.
function errorResponse(code: string, message: string): Buffer {
  const body = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head.write("E");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
