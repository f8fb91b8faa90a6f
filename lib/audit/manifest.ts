// Export manifests: what they say and how their signature is checked. Not "server-only": the
// offline verifier (scripts/audit-verify-export.ts) uses this file.
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import canonicalize from "canonicalize";
import { parse } from "csv-parse/sync";
import { signingKeyId, verifyDetached } from "../crypto";

export type ExportManifest = {
  version: 1;
  exportId: string;
  createdAt: string;
  format: "csv" | "jsonl";
  filters: Record<string, string>;
  timeRange: { from: string | null; to: string | null };
  rowCount: number;
  first: { seq: string; hash: string } | null;
  /** The chain's head when the export began (its rows are at or below it): the trail as it stood, vouched for outside the database. Absent from manifests made before 2026-12-05. */
  chainHead?: { seq: string; hash: string };
  last: { seq: string; hash: string } | null;
  sha256: string;
  keyId: string;
  signature: string;
};

export const manifestSigningInput = ({ signature: _omit, ...rest }: ExportManifest) => canonicalize(rest)!;

export type ExportCheck = { ok: boolean; problems: string[] };

// Explanatory text before a retired key's PEM (RFC 7468 allows it; PEM readers skip it): until
// when it vouches for events, its replacement's first checkpoint plus the overlap for a rolling
// restart, as it does for checkpoints in the chain (key-periods.ts).
const VALID_UNTIL = "Gatehouse-Audit-Key-Valid-Until:";

export const validUntilNote = (until: Date) => `${VALID_UNTIL} ${until.toISOString()}\n`;

function validUntil(publicKeyPem: string): number | null {
  const note = publicKeyPem.split("\n").find((line) => line.startsWith(VALID_UNTIL))?.slice(VALID_UNTIL.length).trim();
  return note ? Date.parse(note) : null;
}

/**
 * Why a retired key (by its PEM's note) cannot vouch for this export: the manifest was made after
 * the key's period, or the export holds an event from after it, or one whose time cannot be read.
 * Offline, the rows' times are what the manifest's signer wrote (the file's digest is signed, the
 * chain is not re-checked), so this stops a leaked key from vouching for events as they truly were
 * after its period (or for "nothing happened" then), not from vouching for invented ones dated inside it.
 */
function retiredKeyProblem(manifest: ExportManifest, rows: ExportedRow[], publicKeyPem: string): string | null {
  const until = validUntil(publicKeyPem);
  if (until === null) return null;
  if (Number.isNaN(until)) return `the note on key ${manifest.keyId} does not give a time`;
  const period = `key ${manifest.keyId}, which vouches only for events up to ${new Date(until).toISOString()} (its replacement's first checkpoint plus the overlap)`;
  if (!(Date.parse(manifest.createdAt) <= until)) return `manifest was made at ${manifest.createdAt} and signed by ${period}`;
  const late = rows.find((row) => !(Date.parse(row.at) <= until));
  if (!late) return null;
  return `manifest was signed by ${period}, but the export holds event ${late.seq} from ${late.at}`;
}

/** Checks an export file against its manifest and a trusted public key (PEM, as /api/v1/audit/public-key serves it). */
export function verifyExport(file: Buffer, manifest: ExportManifest, publicKeyPem: string): ExportCheck {
  const problems: string[] = [];
  const publicKey: KeyObject = createPublicKey(publicKeyPem);
  const read = readRows(file, manifest.format);
  // A file that does not read as its format is not an export, whatever its digest (a row a
  // spreadsheet shows but a parser refuses would otherwise count as no rows at all).
  const rows = "rows" in read ? read.rows : [];
  if ("error" in read) problems.push(`file is not readable as ${manifest.format}: ${read.error}`);
  if (manifest.keyId !== signingKeyId(publicKey)) problems.push(`manifest was signed by key ${manifest.keyId}, not by the key given`);
  else if (!verifyDetached(manifestSigningInput(manifest), manifest.signature, publicKey)) problems.push("manifest signature is not valid");
  else {
    const retired = retiredKeyProblem(manifest, rows, publicKeyPem);
    if (retired) problems.push(retired);
  }
  const digest = createHash("sha256").update(file).digest("hex");
  if (digest !== manifest.sha256) problems.push(`file SHA-256 is ${digest}, manifest says ${manifest.sha256}`);
  if (rows.length !== manifest.rowCount) problems.push(`file has ${rows.length} rows, manifest says ${manifest.rowCount}`);
  const first = rows[0] ? { seq: rows[0].seq, hash: rows[0].hash } : null;
  const last = rows.at(-1) ? { seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash } : null;
  if (JSON.stringify(first) !== JSON.stringify(manifest.first)) problems.push("first row differs from the manifest");
  if (JSON.stringify(last) !== JSON.stringify(manifest.last)) problems.push("last row differs from the manifest");
  return { ok: problems.length === 0, problems };
}

type ExportedRow = { seq: string; at: string; hash: string };

function readRows(file: Buffer, format: ExportManifest["format"]): { rows: ExportedRow[] } | { error: string } {
  try {
    if (format === "jsonl") {
      const rows = file.toString("utf8").split("\n").filter(Boolean).map((line, i) => {
        const row: unknown = JSON.parse(line);
        if (typeof row !== "object" || row === null || Array.isArray(row)) throw new Error(`line ${i + 1} is not an event`);
        return row as ExportedRow;
      });
      return { rows };
    }
    return { rows: parse(file, { columns: true }) as ExportedRow[] };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
