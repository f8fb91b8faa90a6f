// The application log file: the server's and the worker's stdout and stderr, copied to a file that
// the compliance checks scan for credentials (lib/log/scan.ts). Not "server-only": server.ts and
// scripts call it before Next.js starts.
import { closeSync, fchmodSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, writeSync } from "node:fs";
import path from "node:path";
import { readConfig, type Config } from "../config";

const ROTATE_AT_BYTES = 20 * 1024 * 1024;
// Shared through globalThis: Next.js bundles its own copy of this module.
const TERMINAL_WRITE = Symbol.for("gatehouse.log.terminal-write");
const globalLog = globalThis as unknown as { [TERMINAL_WRITE]?: (text: string) => void };

/**
 * Where this process's log file is: GATEHOUSE_LOG_FILE, or logs/gatehouse.log in the data
 * directory; the worker writes beside it (gatehouse-worker.log), so no two processes rotate one
 * file. Null when turned off.
 */
export function logFilePath(role: "server" | "worker" = "server", config: Config = readConfig()): string | null {
  if (config.GATEHOUSE_LOG_FILE === "off") return null;
  const file = path.resolve(config.GATEHOUSE_LOG_FILE ?? path.join(config.GATEHOUSE_DATA_DIR, "logs", "gatehouse.log"));
  return role === "server" ? file : file.replace(/(\.log)?$/, "-worker$1");
}

/** The files a scan reads: every log beside the server's that shares its name (worker's, other instances', rotated ones). */
export function logFiles(config: Config = readConfig()): string[] {
  const file = logFilePath("server", config);
  if (!file) return [];
  const stem = path.basename(file).replace(/\.log$/, "");
  let names: string[];
  try {
    names = readdirSync(path.dirname(file));
  } catch {
    return [file];
  }
  const ours = names.filter((n) => n.startsWith(stem) && /\.log(\.1)?$/.test(n)).map((n) => path.join(path.dirname(file), n));
  return ours.length ? ours.sort() : [file];
}

/** Copies everything this process writes to stdout and stderr into the log file (mode 0600), rotating at 20 MB. */
export function teeOutputToLogFile(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const open = () => {
    const fd = openSync(file, "a", 0o600);
    fchmodSync(fd, 0o600); // a file that already existed keeps its mode otherwise
    return fd;
  };
  let fd: number | null = open();
  let size = fstatSync(fd).size;
  const append = (chunk: unknown) => {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk instanceof Uint8Array ? chunk : null;
    if (!bytes || fd === null) return;
    try {
      if (size + bytes.length > ROTATE_AT_BYTES) {
        const old = fd;
        fd = null; // never closed twice, even if what follows fails
        closeSync(old);
        renameSync(file, `${file}.1`);
        fd = open();
        size = 0;
      }
      writeSync(fd, bytes);
      size += bytes.length;
    } catch {
      // A full disk or a vanished file must not stop the server: the terminal still gets the line
      // (and the file is given up once it cannot be reopened).
    }
  };
  const terminal = process.stdout.write.bind(process.stdout);
  globalLog[TERMINAL_WRITE] = (text) => void terminal(text);
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      append(chunk);
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}

/** For what must never be kept in a file (the first admin's one-time setup link): the terminal only. */
export function writeToTerminalOnly(text: string): void {
  (globalLog[TERMINAL_WRITE] ?? ((t: string) => void process.stdout.write(t)))(text);
}
