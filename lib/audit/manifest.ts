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
  last: { seq: string; hash: string } | null;
  sha256: string;
  keyId: string;
  signature: string;
};

export const manifestSigningInput = ({ signature: _omit, ...rest }: ExportManifest) => canonicalize(rest)!;

export type ExportCheck = { ok: boolean; problems: string[] };

// Explanatory text before a retired key's PEM (RFC 7468 allows it; PEM readers skip it): the
// sequence number of its replacement's first checkpoint, before which alone the key vouches for
// events, as it does for checkpoints in the chain (key-periods.ts).
const RETIRED_BEFORE = "Gatehouse-Audit-Key-Retired-Before-Seq:";

export const retiredKeyNote = (seq: bigint) => `${RETIRED_BEFORE} ${seq}\n`;

function retiredBefore(publicKeyPem: string): bigint | null {
  const note = publicKeyPem.split("\n").find((line) => line.startsWith(RETIRED_BEFORE))?.slice(RETIRED_BEFORE.length).trim();
  return note && /^\d+$/.test(note) ? BigInt(note) : null;
}

/** Why a retired key (by its PEM's note) cannot vouch for this export: it reaches an event from after the key was replaced. */
function retiredKeyProblem(manifest: ExportManifest, publicKeyPem: string): string | null {
  const before = retiredBefore(publicKeyPem);
  if (before === null || !manifest.last) return null;
  const lastSeq = /^\d+$/.test(manifest.last.seq) ? BigInt(manifest.last.seq) : null;
  if (lastSeq !== null && lastSeq < before) return null;
  return `manifest was signed by key ${manifest.keyId}, which was replaced at sequence ${before}, but the export reaches event ${manifest.last.seq}`;
}

/** Checks an export file against its manifest and a trusted public key (PEM, as /api/v1/audit/public-key serves it). */
export function verifyExport(file: Buffer, manifest: ExportManifest, publicKeyPem: string): ExportCheck {
  const problems: string[] = [];
  const publicKey: KeyObject = createPublicKey(publicKeyPem);
  if (manifest.keyId !== signingKeyId(publicKey)) problems.push(`manifest was signed by key ${manifest.keyId}, not by the key given`);
  else if (!verifyDetached(manifestSigningInput(manifest), manifest.signature, publicKey)) problems.push("manifest signature is not valid");
  else {
    const retired = retiredKeyProblem(manifest, publicKeyPem);
    if (retired) problems.push(retired);
  }
  const digest = createHash("sha256").update(file).digest("hex");
  if (digest !== manifest.sha256) problems.push(`file SHA-256 is ${digest}, manifest says ${manifest.sha256}`);
  const rows = readRows(file, manifest.format);
  if (rows.length !== manifest.rowCount) problems.push(`file has ${rows.length} rows, manifest says ${manifest.rowCount}`);
  const first = rows[0] ? { seq: rows[0].seq, hash: rows[0].hash } : null;
  const last = rows.at(-1) ? { seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash } : null;
  if (JSON.stringify(first) !== JSON.stringify(manifest.first)) problems.push("first row differs from the manifest");
  if (JSON.stringify(last) !== JSON.stringify(manifest.last)) problems.push("last row differs from the manifest");
  return { ok: problems.length === 0, problems };
}

function readRows(file: Buffer, format: ExportManifest["format"]): { seq: string; hash: string }[] {
  try {
    if (format === "jsonl") {
      return file.toString("utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as { seq: string; hash: string });
    }
    return parse(file, { columns: true }) as { seq: string; hash: string }[];
  } catch {
    return [];
  }
}
