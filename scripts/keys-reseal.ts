// `npm run keys:reseal [-- --check]`: after a new encryption key was put first in
// GATEHOUSE_ENCRYPTION_KEYS (on every instance), seals every stored secret (TOTP secrets, signing
// keys' private halves, webhook secrets, forensic snapshots) again under it, then says which key
// still seals what: a key that seals nothing may leave the list. Audit events' IP addresses and
// user agents are hashed into the chain as ciphertext and keep their key while they are retained.
// `--check` only reports. Audited as keys.reseal by the command line.
import { withDatabase } from "./with-database";

const checkOnly = process.argv.includes("--check");
const unknown = process.argv.slice(2).filter((arg) => arg !== "--check");
if (unknown.length) {
  console.error("Usage: npm run keys:reseal [-- --check]");
  process.exit(2);
}

await withDatabase(async () => {
  const { resealSecrets, encryptionKeyUsage } = await import("../lib/sealed-columns");
  if (!checkOnly) {
    const results = await resealSecrets({ actor: { type: "system", id: null, label: "cli" }, client: null });
    for (const r of results) console.log(`${r.column}: ${r.resealed} sealed again${r.unreadable ? `, ${r.unreadable} no configured key opens` : ""}`);
    if (results.some((r) => r.unreadable)) process.exitCode = 1;
  }
  for (const key of await encryptionKeyUsage()) {
    const state = key.current ? "current" : key.configured ? "configured" : "NOT CONFIGURED";
    const verdict = key.current ? "" : key.secrets + key.audit === 0 ? " → seals nothing: it may leave GATEHOUSE_ENCRYPTION_KEYS" : key.secrets ? " → still seals secrets: run npm run keys:reseal" : " → seals only audit values: keep it while they are retained";
    console.log(`key ${key.keyId} (${state}): ${key.secrets} secrets, ${key.audit} audit values${verdict}`);
  }
});
