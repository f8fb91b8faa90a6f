import "server-only";
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";

// Looks for credentials and tokens that should never reach a log. A finding names the file, the
// line and the kind of secret, never the text itself: the evidence must not spread the secret.

export const SECRET_PATTERNS: readonly { name: string; pattern: RegExp }[] = [
  { name: "JSON Web Token", pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { name: "Authorization header value", pattern: /\b(?:bearer|basic|dpop)\s+[A-Za-z0-9._~+/-]{20,}=*/i },
  { name: "private key", pattern: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/ },
  { name: "credentials in a URL", pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:[^\s@/]+@/i },
  { name: "token in a query string", pattern: /[?&](?:access_token|refresh_token|id_token|client_secret|token|code)=[A-Za-z0-9._~-]{16,}/ },
  { name: "TOTP seed", pattern: /otpauth:\/\/totp\/|\bsecret=[A-Z2-7]{16,}/i },
  { name: "webhook signing secret", pattern: /\bwhsec_[A-Za-z0-9_-]{16,}/ },
  { name: "password or secret value", pattern: /\b(?:password|passwd|client_secret|api[_-]?key)["']?\s*[:=]\s*["']?(?!\[?(?:redacted|hidden|\*+)\]?)[^\s"',;&]{6,}/i },
];

const MAX_BYTES_PER_FILE = 50 * 1024 * 1024;
const MAX_FINDINGS = 50;

export type LogScan = {
  files: { file: string; scanned: boolean; bytes: number; lines: number }[];
  findings: { file: string; line: number; kind: string }[];
};

/** Scans the last 50 MB of each file, line by line (memory stays flat). Missing files are reported, not fatal. */
export async function scanLogsForSecrets(files: string[]): Promise<LogScan> {
  const scan: LogScan = { files: [], findings: [] };
  for (const file of files) {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      scan.files.push({ file, scanned: false, bytes: 0, lines: 0 });
      continue;
    }
    const start = Math.max(0, size - MAX_BYTES_PER_FILE);
    const lines = createInterface({ input: createReadStream(file, { start, encoding: "utf8" }), crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line += 1;
      const match = SECRET_PATTERNS.find((p) => p.pattern.test(text));
      if (match && scan.findings.length < MAX_FINDINGS) scan.findings.push({ file, line, kind: match.name });
    }
    scan.files.push({ file, scanned: true, bytes: size - start, lines: line });
  }
  return scan;
}
