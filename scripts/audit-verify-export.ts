// `npm run audit:verify-export -- <export file> <manifest.json> <public-key.pem>`
// Offline: needs no database and no Gatehouse secrets, only the public key (from
// /api/v1/audit/public-key, obtained separately from the export).
import { readFileSync } from "node:fs";
import { verifyExport, type ExportManifest } from "../lib/audit/manifest";

const [file, manifestPath, keyPath] = process.argv.slice(2);
if (!file || !manifestPath || !keyPath) {
  console.error("Usage: npm run audit:verify-export -- <export file> <manifest.json> <public-key.pem>");
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as ExportManifest;
const result = verifyExport(readFileSync(file), manifest, readFileSync(keyPath, "utf8"));
if (result.ok) {
  console.log(`Export OK: ${manifest.rowCount} rows, sequence ${manifest.first?.seq ?? "-"}..${manifest.last?.seq ?? "-"}, signed by key ${manifest.keyId}.`);
} else {
  for (const problem of result.problems) console.error(`FAILED: ${problem}`);
  process.exit(1);
}
