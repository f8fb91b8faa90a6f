// `npm run keys:reseal [-- --check]`: after a new encryption key was put first in
// GATEHOUSE_ENCRYPTION_KEYS (on every instance), seals every stored secret (TOTP secrets, signing
// keys' private halves, webhook secrets, forensic snapshots) again under it, then says which key
// still seals what: a key that seals nothing may leave the list (keep it offline for as long as
// backups taken before this run are kept: they hold secrets sealed under it). Audit events' IP
// addresses and user agents are hashed into the chain as ciphertext and keep their key while they
// are retained. `--check` only reports. Exits 1 when something is sealed under a key not
// configured. Audited as keys.reseal by the command line.
import path from "node:path";
import { storedLocalSecret } from "../lib/local-secrets";
import { withDatabase } from "./with-database";

const checkOnly = process.argv.includes("--check");
const unknown = process.argv.slice(2).filter((arg) => arg !== "--check");
if (unknown.length) {
  console.error("Usage: npm run keys:reseal [-- --check]");
  process.exit(2);
}

// The embedded database's keys live in its secrets.json, which the server reads at start: sealing
// under a key given only in the environment would leave the next plain start unable to open anything.
const dataDir = process.env.DATABASE_URL ? null : path.resolve(process.env.GATEHOUSE_DATA_DIR ?? "./data");
const stored = dataDir ? storedLocalSecret(dataDir, "GATEHOUSE_ENCRYPTION_KEYS") : undefined;
if (!checkOnly && stored && process.env.GATEHOUSE_ENCRYPTION_KEYS && process.env.GATEHOUSE_ENCRYPTION_KEYS !== stored) {
  console.error(`On the embedded database the keys are kept in ${path.join(dataDir!, "secrets.json")}: put the new key first in GATEHOUSE_ENCRYPTION_KEYS there, not in the environment, then run this again. Nothing was changed.`);
  process.exit(2);
}

await withDatabase(async () => {
  const { resealSecrets, encryptionKeyUsage } = await import("../lib/sealed-columns");
  if (!checkOnly) {
    const results = await resealSecrets({ actor: { type: "system", id: null, label: "cli" }, client: null });
    for (const r of results) console.log(`${r.column}: ${r.resealed} sealed again${r.unreadable ? `, ${r.unreadable} no configured key opens` : ""}`);
  }
  for (const key of await encryptionKeyUsage()) {
    const state = key.current ? "current" : key.configured ? "configured" : "NOT CONFIGURED";
    console.log(`key ${key.keyId} (${state}): ${key.secrets} secrets, ${key.audit} audit values${verdict(key)}`);
    if (!key.configured) process.exitCode = 1;
  }
});

function verdict(key: { current: boolean; configured: boolean; secrets: number; audit: number }): string {
  if (key.current) return "";
  if (!key.configured) return " → cannot be read: add this key back to GATEHOUSE_ENCRYPTION_KEYS (or set those secrets up again)";
  if (key.secrets) return " → still seals secrets: run npm run keys:reseal";
  if (key.audit) return " → seals only audit values: keep it while they are retained";
  return " → seals nothing: it may leave GATEHOUSE_ENCRYPTION_KEYS (keep it offline while older backups are kept)";
}
